/**
 * The service's entry point (`npm start`): configuration from the environment, the data plane
 * loaded and checked (a broken artifact stops the start with a non-zero exit and every problem
 * listed), the app listening, JSON logs (pino), graceful shutdown on SIGTERM / SIGINT (stop
 * accepting, let in-flight requests finish, dispose the sessions) and reload on SIGHUP.
 */
import type { Server } from 'node:http';
import { pino, type Logger } from 'pino';
import { ConfigError, configFromEnv, type ServiceConfig } from './config/env.js';
import { ArtifactError } from './errors/index.js';
import { buildApp, type App } from './http/app.js';
import { DataPlane } from './serve/dataplane.js';

function loader(config: Readonly<ServiceConfig>): () => Promise<DataPlane> {
  return () =>
    DataPlane.load({
      zooDir: config.zooDir,
      premodelDir: config.premodelDir,
      intraOpThreads: config.intraOpThreads,
      defaultMaxLatencyMs: config.defaultMaxLatencyMs,
    });
}

function listen(app: App, config: Readonly<ServiceConfig>): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(config.port, config.host, (err?: Error) => (err ? reject(err) : resolve(server)));
    server.once('error', reject);
  });
}

function handleSignals(app: App, server: Server, config: Readonly<ServiceConfig>, logger: Logger): void {
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
    logger.info('stopped');
    process.exit(drained ? 0 : 1);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading the zoos and premodels');
    app.service.reload(loader(config)).then(
      (plane) => logger.info({ tasks: plane.tasks.map((t) => t.name) }, 'reloaded'),
      (err: Error) => logger.error({ reason: err.message }, 'reload refused; the loaded artifacts keep serving'),
    );
  });
}

async function main(): Promise<void> {
  let config: Readonly<ServiceConfig>;
  try {
    config = configFromEnv();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`adaptive-zoo: ${err.message}\n`);
    process.exit(2);
  }
  const logger = pino({ level: config.logLevel, base: { service: 'adaptive-zoo' } });
  const started = performance.now();
  let plane: DataPlane;
  try {
    plane = await loader(config)();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    logger.fatal(
      { zooDir: config.zooDir, premodelDir: config.premodelDir, problems: err instanceof ArtifactError ? err.problems : undefined },
      `cannot start: ${message}`,
    );
    process.stderr.write(`adaptive-zoo: cannot start: ${message}\n`);
    process.exit(1);
  }
  const app = buildApp(plane, config, {
    logger,
    ...(config.adminToken === '' ? {} : { reload: loader(config) }),
  });
  const server = await listen(app, config);
  handleSignals(app, server, config, logger);
  const address = server.address();
  logger.info(
    {
      address: typeof address === 'object' && address !== null ? `${address.address}:${address.port}` : address,
      tasks: plane.describe().map((t) => ({ task: t.task, models: t.models.length })),
      loadMs: Math.round(performance.now() - started),
      maxInFlight: config.maxInFlight,
      reload: config.adminToken !== '',
    },
    'listening',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`adaptive-zoo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
