/**
 * What every route of the app shares (the service and its data plane, the limits, the metrics, the
 * logger, the clock) and the middleware common to the inference routes: admission (load
 * shedding, shutdown, the wait to be read).
 */
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { FeedbackService } from '../feedback/index.js';
import type { Metrics } from '../metrics/index.js';
import type { LoopClock } from '../serve/clock.js';
import type { DataPlane } from '../serve/dataplane.js';
import type { ReadWaitClock } from '../serve/read-wait.js';
import type { PlaneLoader, Service } from '../serve/service.js';
import { exchangeOf, type Endpoint } from './exchange.js';

/** The part of the service configuration the HTTP app uses. */
export interface HttpConfig {
  /** Largest request body, JSON or image, in bytes. */
  maxBodyBytes: number;
  /** Largest image, in pixels (width x height). */
  maxInputPixels: number;
  /** Inference requests served at once; more get 503 with Retry-After. */
  maxInFlight: number;
  /** Retry-After of a 503, in seconds. */
  retryAfterS: number;
  /** Bearer token of POST /v1/admin/reload; empty: the route is off. */
  adminToken: string;
  /** Origins (comma-separated, or *) whose browser pages may call the API; empty: none. */
  corsOrigins: string;
}

export interface AppContext {
  service: Service;
  config: Readonly<HttpConfig>;
  metrics: Metrics;
  logger: Logger;
  /** The service's version (package.json), for GET /v2 and the OpenAPI document. */
  version: string;
  clock: LoopClock;
  /** How to load a fresh data plane for a reload; none: reload is off. */
  reload?: PlaneLoader;
  /** How long the request read now had waited to be read (see serve/read-wait.ts). */
  readWait: ReadWaitClock;
  /** Label feedback's store; none: POST /v1/tasks/{task}/feedback is off. */
  feedback?: FeedbackService;
  /** While the app serves its own warm-up requests (App.warmUp): they are neither logged nor counted. */
  warmingUp: boolean;
}

/**
 * Admits an inference request (or 503) and leases the current data plane until the response
 * closes; with `taskOf`, names the request's task on the leased plane before the body is read, so
 * an unknown one is a 404 whatever the body (in the same layer: each router layer is a hop).
 */
export function admit(ctx: AppContext, endpoint: Endpoint, taskOf?: (req: Request, plane: DataPlane) => string): RequestHandler {
  return (req, res, next) => {
    const exchange = exchangeOf(res);
    exchange.endpoint = endpoint;
    exchange.waitedMs = ctx.readWait.waitedMs(exchange.readAtMs, req.socket);
    const lease = ctx.service.admit();
    exchange.lease = lease;
    res.on('close', () => lease.release());
    if (taskOf !== undefined) exchange.task = taskOf(req, lease.plane);
    next();
  };
}
