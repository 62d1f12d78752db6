/**
 * The HTTP app: the thin adapters (v1, v2, health, metrics, OpenAPI) over a loaded data plane (the
 * service in src/serve holds it), one error middleware, request ids, access logs and request metrics. `buildApp` never listens
 * (src/main.ts does), so tests run it on an ephemeral port. The only module tree importing
 * express is src/http/.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express, { type Express, type RequestHandler } from 'express';
import { pino, type Logger } from 'pino';
import type { FeedbackService } from '../feedback/index.js';
import { corsOriginsOf } from '../config/env.js';
import { Metrics } from '../metrics/index.js';
import { systemClock, type LoopClock } from '../serve/clock.js';
import type { DataPlane } from '../serve/dataplane.js';
import { ReadWaitClock } from '../serve/read-wait.js';
import { Service, type PlaneLoader } from '../serve/service.js';
import type { AppContext, HttpConfig } from './context.js';
import { errorHandler, notFound } from './errors.js';
import { beginExchange } from './exchange.js';
import { openApiDocument } from './openapi.js';
import { v1Routes } from './v1.js';
import { v2Routes } from './v2/index.js';
import { createAppServer, listenOn } from './server.js';
import { serveWarmUpRequests } from './warm-up.js';

export type { HttpConfig } from './context.js';

export interface BuildOptions {
  /** pino logger for access and error logs; default: silent. */
  logger?: Logger;
  /** Loads a fresh data plane: enables POST /v1/admin/reload (with config.adminToken). */
  reload?: PlaneLoader;
  /** The clock and event loop the wait to be read is estimated on; default: the process's. */
  clock?: LoopClock;
  /** Label feedback's store (its signer must be the data plane's); none: feedback is off. */
  feedback?: FeedbackService;
}

/**
 * The express app, plus the service that holds its data plane (shutdown, reload, dispose), and
 * its warm start: the app serves its own warm-up requests (http/warm-up.ts), before it listens,
 * leaving no log line and no metric of them. Its `listen` is express's, on a server of server.ts.
 */
export type App = Express & { readonly service: Service; readonly metrics: Metrics; warmUp(): Promise<void> };

const VERSION = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

const REQUEST_ID = /^[\w.:-]{1,128}$/;
/** Routes probed often: logged at debug, not info. */
const QUIET = new Set(['/healthz', '/readyz', '/metrics', '/v2/health/live', '/v2/health/ready']);

/**
 * The headers a security scanner expects on every response, errors included: nothing here is a
 * page to frame, embed, sniff, cache or refer from, and no response is for another origin.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Cross-Origin-Resource-Policy': 'same-origin',
});

const SECURITY_HEADER_ENTRIES = Object.entries(SECURITY_HEADERS);

const securityHeaders: RequestHandler = (_req, res, next) => {
  for (const [name, value] of SECURITY_HEADER_ENTRIES) res.setHeader(name, value);
  next();
};

/**
 * CORS for the origins an operator lists (CORS_ORIGINS; none by default): their pages may call
 * every route, read the headers clients need, and send the headers the API takes. A preflight of
 * an allowed origin is answered 204 here; any other origin gets no CORS header, so its page
 * cannot read the answer.
 */
function cors(origins: readonly string[]): RequestHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined || (!any && !allowed.has(origin))) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
    res.append('Vary', 'Origin');
    // The page may embed what it reads, too (a page isolated with COEP checks this header).
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.setHeader('Access-Control-Expose-Headers', 'X-Request-Id, Retry-After, Inference-Header-Content-Length, WWW-Authenticate');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, X-Request-Id, Inference-Header-Content-Length');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}

/** Request id (X-Request-Id, kept when the client sent a sane one), access log, request metrics. */
function observe(ctx: AppContext): RequestHandler {
  return (req, res, next) => {
    const started = ctx.clock.now();
    const given = req.headers['x-request-id'];
    const exchange = beginExchange(res, typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID(), started);
    res.setHeader('X-Request-Id', exchange.id);
    res.on('finish', () => {
      if (ctx.warmingUp) return;
      const now = ctx.clock.now();
      const ms = now - started;
      // An inference answer is out: its connection's next request is read from now (serve/read-wait.ts).
      if (exchange.endpoint !== undefined) ctx.readWait.answered(req.socket, now);
      const route = req.route?.path === undefined ? 'unmatched' : String(req.route.path);
      const status = String(res.statusCode);
      ctx.metrics.httpDuration.observe({ method: req.method, route, status }, ms / 1000);
      const { endpoint, task, model, errorCode } = exchange;
      if (endpoint !== undefined) ctx.metrics.requests.inc({ endpoint, task: task ?? '', model: model ?? '', status });
      const line = {
        requestId: exchange.id,
        method: req.method,
        url: req.originalUrl,
        status: res.statusCode,
        ms: Math.round(ms * 1000) / 1000,
        ...(task === undefined ? {} : { task }),
        ...(model === undefined ? {} : { model }),
        ...(errorCode === undefined ? {} : { error: errorCode }),
      };
      if (QUIET.has(req.path) && res.statusCode < 400) ctx.logger.debug(line, 'request');
      else ctx.logger.info(line, 'request');
    });
    next();
  };
}

export function buildApp(dataPlane: DataPlane, config: Readonly<HttpConfig>, options: BuildOptions = {}): App {
  const metrics = new Metrics();
  const service = new Service(dataPlane, config, metrics);
  const clock = options.clock ?? systemClock;
  const ctx: AppContext = {
    service,
    config,
    metrics,
    logger: options.logger ?? pino({ level: 'silent' }),
    version: VERSION,
    clock,
    readWait: new ReadWaitClock(clock),
    warmingUp: false,
    ...(options.reload === undefined ? {} : { reload: options.reload }),
    ...(options.feedback === undefined ? {} : { feedback: options.feedback }),
  };
  const openapi = JSON.stringify(openApiDocument(VERSION));

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(securityHeaders);
  const origins = corsOriginsOf(config.corsOrigins);
  if (origins.length > 0) app.use(cors(origins));
  app.use(observe(ctx));

  // The inference routes first: the router tries its layers in order, and they take the load.
  app.use(v1Routes(ctx));
  app.use(v2Routes(ctx));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = service.ready;
    res.status(ready ? 200 : 503).json({ ready, ...(ready ? {} : { reason: 'shutting down' }) });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openapi);
  });
  app.use(notFound);
  app.use(errorHandler(ctx));

  const warmUp = async () => {
    ctx.warmingUp = true;
    try {
      await serveWarmUpRequests(() => createAppServer(app), service.plane);
    } finally {
      ctx.warmingUp = false;
      // What the warm-up requests counted inside the service (stages, selections, model runs) too.
      metrics.forgetRequests();
    }
  };
  // Listening as express does, on a server that makes requests and responses with the app's prototypes (server.ts).
  const listen = (...args: unknown[]) => listenOn(app, args);
  return Object.assign(app, { service, metrics, warmUp, listen });
}
