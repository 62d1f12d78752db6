/**
 * The service's entry point (`npm start`): configuration from the environment, then with
 * WORKERS > 1 a primary that runs that many worker processes (src/serve/cluster.ts), each of
 * which, like a single process, loads and checks the data plane (a broken artifact stops the
 * start with a non-zero exit and every problem listed), listens, logs JSON (pino), shuts down
 * gracefully on SIGTERM / SIGINT (stop accepting, let in-flight requests finish, dispose the
 * sessions) and reloads on SIGHUP.
 */
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import os from 'node:os';
import { destination as logDestination, pino, type Logger } from 'pino';
import { LATENCY_DEFAULTS } from './config/defaults.js';
import { ConfigError, configFromEnv, usage, type ServiceConfig } from './config/env.js';
import { ArtifactError } from './errors/index.js';
import { FeedbackService } from './feedback/index.js';
import { LockHeldError } from './feedback/store.js';
import { buildApp, type App } from './http/app.js';
import { runPrimary } from './serve/cluster.js';
import { DataPlane } from './serve/dataplane.js';
import { LatencyModel } from './serve/latency.js';

function loader(config: Readonly<ServiceConfig>, feedback: FeedbackService | undefined): () => Promise<DataPlane> {
  // One latency model for the process, kept across reloads: the load it follows is the process's.
  const latency = new LatencyModel({ ...LATENCY_DEFAULTS, adaptive: config.adaptiveLatency });
  return async () => {
    const plane = await DataPlane.load({
      zooDir: config.zooDir,
      premodelDir: config.premodelDir,
      intraOpThreads: config.intraOpThreads,
      defaultMaxLatencyMs: config.defaultMaxLatencyMs,
      latency,
      retryAfterS: config.retryAfterS,
      correction: { enabled: config.feedbackCorrection, step: config.feedbackStep, maxRaise: config.feedbackMaxRaise },
      batching: { enabled: config.batching, maxSize: config.batchMaxSize, waitMs: config.batchWaitMs },
      ...(feedback === undefined ? {} : { signer: feedback.signer }),
    });
    // A fresh plane counts the stored labels; its correction starts from none.
    await feedback?.replay(plane.tasks);
    return plane;
  };
}

/** The feedback store of this process (FEEDBACK_DIR), or none when feedback is off. */
async function openFeedback(config: Readonly<ServiceConfig>): Promise<FeedbackService | undefined> {
  if (config.feedbackDir === '') return undefined;
  const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 48) || 'host';
  const open = (replica: string) =>
    FeedbackService.open({ dir: config.feedbackDir, replica, key: config.feedbackKey, maxBatch: config.feedbackMaxBatch, maxBytes: config.feedbackMaxBytes });
  if (config.feedbackReplica !== '') return open(config.feedbackReplica);
  const replica = cluster.isWorker ? `${host}-w${cluster.worker!.id}` : host;
  // A second service started on this host in the same folder writes a log of its own.
  return open(replica).catch((err: unknown) => (err instanceof LockHeldError ? open(`${replica}-p${process.pid}`) : Promise.reject(err)));
}

function listen(app: App, config: Readonly<ServiceConfig>): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(config.port, config.host, (err?: Error) => (err ? reject(err) : resolve(server)));
    server.once('error', reject);
  });
}

function handleSignals(app: App, server: Server, config: Readonly<ServiceConfig>, load: () => Promise<DataPlane>, logger: Logger, feedback: FeedbackService | undefined): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, inFlight: app.service.requestsInFlight }, 'shutting down: no new requests, finishing those in flight');
    app.service.beginShutdown();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const drained = await app.service.drained(config.shutdownTimeoutMs);
    if (!drained) logger.warn({ timeoutMs: config.shutdownTimeoutMs }, 'requests still in flight at the shutdown timeout: closing them');
    server.closeAllConnections();
    await closed;
    await app.service.close();
    await feedback?.close();
    logger.info('stopped');
    process.exit(drained ? 0 : 1);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  // A worker stops when its primary says so: Ctrl-C in a terminal reaches the whole process group,
  // and the primary relays it as SIGTERM.
  if (cluster.isWorker) process.on('SIGINT', () => undefined);
  else process.once('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading the zoos and premodels');
    app.service.reload(load).then(
      (plane) => logger.info({ tasks: plane.tasks.map((t) => t.name) }, 'reloaded'),
      (err: Error) => logger.error({ reason: err.message }, 'reload refused; the loaded artifacts keep serving'),
    );
  });
}

/** How often the drift monitors are looked at for a warning, in ms. */
const DRIFT_CHECK_MS = 30_000;

/** Logs one warning per input group as what clients send drifts from the premodel split (quality/drift.ts). */
function watchDrift(app: App, logger: Logger): void {
  setInterval(() => {
    for (const task of app.service.plane.tasks) {
      for (const drift of task.newlyDrifted()) logger.warn({ task: task.name, ...drift }, 'inputs drifted from the premodel split: the accuracy promise may not hold; send labels, or recalibrate');
    }
  }, DRIFT_CHECK_MS).unref();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    process.stdout.write(`${usage()}\n`);
    process.exit(0);
  }
  if (args.length > 0) {
    process.stderr.write(`adaptive-zoo: unknown argument "${args[0]}"; the service is configured by environment variables (see --help)\n`);
    process.exit(2);
  }
  let config: Readonly<ServiceConfig>;
  try {
    config = configFromEnv();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`adaptive-zoo: ${err.message}\n`);
    process.exit(2);
  }
  // Lines are written 4 KB (or 250 ms) at a time, not one system call each: under load the access
  // log otherwise takes about a fifth of a worker's throughput. What is buffered is written at exit.
  const destination = logDestination({ dest: 1, sync: true, minLength: 4096, periodicFlush: 250 });
  process.on('exit', () => destination.flushSync());
  const logger = pino({ level: config.logLevel, base: { service: 'adaptive-zoo' } }, destination);
  if (cluster.isPrimary && config.workers > 1) {
    runPrimary(config.workers, logger);
    return;
  }
  const started = performance.now();
  let plane: DataPlane;
  let feedback: FeedbackService | undefined;
  let load: () => Promise<DataPlane>;
  try {
    feedback = await openFeedback(config);
    load = loader(config, feedback);
    plane = await load();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    logger.fatal(
      { zooDir: config.zooDir, premodelDir: config.premodelDir, problems: err instanceof ArtifactError ? err.problems : undefined },
      `cannot start: ${message}`,
    );
    process.stderr.write(`adaptive-zoo: cannot start: ${message}\n`);
    await feedback?.close();
    process.exit(1);
  }
  const app = buildApp(plane, config, {
    logger,
    ...(config.adminToken === '' ? {} : { reload: load }),
    ...(feedback === undefined ? {} : { feedback }),
  });
  if (config.warmStart) await app.warmUp();
  const server = await listen(app, config);
  handleSignals(app, server, config, load, logger, feedback);
  watchDrift(app, logger);
  const address = server.address();
  logger.info(
    {
      address: typeof address === 'object' && address !== null ? `${address.address}:${address.port}` : address,
      tasks: plane.describe().map((t) => ({ task: t.task, models: t.models.length })),
      loadMs: Math.round(performance.now() - started),
      maxInFlight: config.maxInFlight,
      adaptiveLatency: config.adaptiveLatency,
      batching: config.batching ? { maxSize: config.batchMaxSize, waitMs: config.batchWaitMs } : false,
      reload: config.adminToken !== '',
    },
    // In a cluster the primary says "listening" once every worker is.
    cluster.isWorker ? 'worker listening' : 'listening',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`adaptive-zoo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
