/**
 * The primary of a service of several processes (WORKERS > 1). Each worker is a whole,
 * single-threaded service (src/main.ts), since a process runs its inferences one at a time on
 * its event loop; the workers share the listening port, node:cluster handing them connections in
 * turn. The primary holds no state. It forks the workers; relays SIGTERM and SIGINT to them as
 * SIGTERM (drain, then stop) and SIGHUP (reload); and stops the whole service, with a non-zero
 * exit, when a worker fails, at start-up (a broken artifact) or later (a crash), so that whoever
 * started it (systemd, Kubernetes) sees one failed service and restarts it, rather than a
 * half-sized one serving on.
 */
import cluster from 'node:cluster';
import type { Logger } from 'pino';

export function runPrimary(workers: number, logger: Logger): void {
  let listening = 0;
  let stopping = false;
  let exitCode = 0;
  const relay = (signal: NodeJS.Signals) => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  const stop = () => {
    stopping = true;
    relay('SIGTERM');
  };

  cluster.on('listening', (_worker, address) => {
    if (++listening === workers) logger.info({ address: `${address.address}:${address.port}`, workers }, 'listening');
  });
  cluster.on('exit', (worker, code, signal) => {
    const failed = code !== 0 || signal !== null;
    if (failed) exitCode = 1;
    if (!stopping) {
      logger.error({ worker: worker.process.pid, code, signal }, 'a worker stopped: stopping the service');
      exitCode = 1;
      stop();
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) {
      logger.info({ exitCode }, 'stopped');
      process.exit(exitCode);
    }
  });
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading every worker');
    relay('SIGHUP');
  });
  // One libuv thread per worker for image decoding (sharp) unless told otherwise: the default four
  // per worker oversubscribe the cores that the workers already fill (measured: 10% fewer
  // fashion requests per second on 2 cores).
  const env = { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '1' };
  for (let i = 0; i < workers; i++) cluster.fork(env);
}
