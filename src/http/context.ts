/**
 * What every route of the app shares: the service (data plane lifecycle), the limits, the metrics
 * and the logger; and the middleware common to the inference routes: admission (load shedding,
 * shutdown) and the recording of a served prediction.
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { BadRequestError, OverloadedError, UnsupportedMediaTypeError } from '../errors/index.js';
import type { ModelInput } from '../inputs/index.js';
import type { Constraint } from '../select/policy.js';
import type { DataPlane } from '../serve/dataplane.js';
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
}

export type Endpoint = 'v1_predict' | 'v2_infer';

/** Admits an inference request (or 503) and leases the current data plane until the response closes. */
export function admit(ctx: AppContext, endpoint: Endpoint): RequestHandler {
  return (_req, res, next) => {
    res.locals.endpoint = endpoint;
    res.locals.started = performance.now();
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
  const prediction = await lease.pin(task.predict(input, constraint, res.locals.started as number)).catch((err: unknown) => {
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
