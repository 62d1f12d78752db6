/**
 * What every route of the app shares: the service (data plane lifecycle), the limits, the metrics
 * and the logger; and the middleware common to the inference routes: admission (load shedding,
 * shutdown) and the recording of a served prediction.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { BadRequestError, OverloadedError, UnsupportedMediaTypeError } from '../errors/index.js';
import type { ModelInput } from '../inputs/index.js';
import type { Constraint } from '../select/policy.js';
import type { DataPlane } from '../serve/dataplane.js';
import { ReadWait } from '../serve/read-wait.js';
import type { Prediction, ServedTask } from '../serve/task.js';
import type { Metrics } from './metrics.js';
import type { Lease, PlaneLoader, Service } from './service.js';

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
}

export interface AppContext {
  service: Service;
  config: Readonly<HttpConfig>;
  metrics: Metrics;
  logger: Logger;
  /** The service's version (package.json), for GET /v2 and the OpenAPI document. */
  version: string;
  /** How to load a fresh data plane for a reload; none: reload is off. */
  reload?: PlaneLoader;
  /** How long the request read now had waited to be read (see serve/read-wait.ts). */
  readWait: ReadWaitClock;
}

/** `ReadWait` on this process's clock, event loop and connections: one per app, so that each turn ends once. */
export class ReadWaitClock {
  private readonly estimate = new ReadWait();
  private turnEndPending = false;
  private readonly lastAnswerAt = new WeakMap<Socket, number>();

  /** Estimated wait, in ms, of a request read at `atMs` (performance.now()) on `socket`. */
  waitedMs(atMs: number, socket: Socket): number {
    const waited = this.estimate.waitedMs(atMs, performance.eventLoopUtilization().idle, this.lastAnswerAt.get(socket));
    if (!this.turnEndPending) {
      this.turnEndPending = true;
      // The check phase: after this turn has read, and served, every request that was ready.
      setImmediate(() => {
        this.turnEndPending = false;
        this.estimate.endTurn(performance.now(), performance.eventLoopUtilization().idle);
      });
    }
    return waited;
  }

  /** The answer to a request on `socket` went out at `atMs`. */
  answered(socket: Socket, atMs: number): void {
    this.lastAnswerAt.set(socket, atMs);
  }
}

export type Endpoint = 'v1_predict' | 'v2_infer';

/** Admits an inference request (or 503) and leases the current data plane until the response closes. */
export function admit(ctx: AppContext, endpoint: Endpoint): RequestHandler {
  return (req, res, next) => {
    res.locals.endpoint = endpoint;
    const started = performance.now();
    res.locals.started = started;
    res.locals.waitedMs = ctx.readWait.waitedMs(started, req.socket);
    res.on('finish', () => ctx.readWait.answered(req.socket, performance.now()));
    const lease = ctx.service.admit();
    res.locals.lease = lease;
    res.on('close', () => lease.release());
    next();
  };
}

export function leasedPlane(res: Response): DataPlane {
  return (res.locals.lease as Lease).plane;
}

/** Labels a response with the task it was for, for logs and metrics. */
export function labelTask(res: Response, task: ServedTask): void {
  res.locals.task = task.name;
}

/** Runs the task's pipeline and records it: stages, selection, constraint misses, requests shed. */
export async function predict(
  ctx: AppContext,
  res: Response,
  task: ServedTask,
  input: ModelInput,
  constraint: Constraint,
): Promise<Prediction> {
  // Pinned: a client that goes away mid-inference does not free the plane under the sessions.
  const lease = res.locals.lease as Lease;
  const prediction = await lease.pin(task.predict(input, constraint, res.locals.started as number, res.locals.waitedMs as number)).catch((err: unknown) => {
    // The task sheds a request that the load leaves no model able to answer within its budget.
    if (err instanceof OverloadedError) ctx.metrics.rejected.inc({ reason: 'deadline' });
    throw err;
  });
  res.locals.model = prediction.model;
  ctx.metrics.observePrediction(prediction, constraint.model !== undefined);
  return prediction;
}

/**
 * The request's content type among `types`: null when it has no body (none, or an empty one),
 * false when its type is none of them.
 */
export function bodyType(req: Request, types: readonly string[]): string | false | null {
  if (req.headers['content-length'] === '0' && req.headers['transfer-encoding'] === undefined) return null;
  return req.is([...types]);
}

/** JSON bodies only: 415 for another type, 400 for none; then the JSON parser with the size limit. */
export function jsonOnly(ctx: AppContext): RequestHandler {
  const parse = express.json({ limit: ctx.config.maxBodyBytes, type: 'application/json' });
  return (req, res, next) => {
    const type = bodyType(req, ['application/json']);
    if (type === null) {
      next(new BadRequestError('the request has no body; send JSON (Content-Type: application/json)'));
    } else if (type === false) {
      next(new UnsupportedMediaTypeError(`Content-Type "${req.headers['content-type'] ?? ''}" is not accepted; send application/json`));
    } else {
      parse(req, res, next);
    }
  };
}
