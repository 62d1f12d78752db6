/**
 * What the HTTP layer knows of one request while it is served, typed, in one place: its id, when it
 * was read and how long it waited before, the endpoint, the task and model it was for, the lease of
 * the data plane it holds, and the error it ended with. The access log, the request metrics and
 * the error handler read it; nothing is passed between middlewares in untyped `res.locals` keys.
 */
import type { Response } from 'express';
import type { Lease } from '../serve/service.js';

export type Endpoint = 'v1_predict' | 'v2_infer';

export interface Exchange {
  /** X-Request-Id: the client's own when sane, else a fresh UUID. */
  readonly id: string;
  /** When the worker read the request, on the service's clock (ms). */
  readonly readAtMs: number;
  /** Inference endpoints only: the estimated wait before the request was read (serve/read-wait.ts), ms. */
  waitedMs: number;
  endpoint?: Endpoint;
  /** The body's media type as the inference routes read it (body.ts), lower case, without parameters. */
  mediaType?: string;
  task?: string;
  model?: string;
  lease?: Lease;
  errorCode?: string;
}

const exchanges = new WeakMap<Response, Exchange>();

export function beginExchange(res: Response, id: string, readAtMs: number): Exchange {
  const exchange: Exchange = { id, readAtMs, waitedMs: 0 };
  exchanges.set(res, exchange);
  return exchange;
}

/** The exchange of `res` (every response has one: the first middleware begins it). */
export function exchangeOf(res: Response): Exchange {
  const exchange = exchanges.get(res);
  if (exchange === undefined) throw new Error('a response without an exchange: the observe middleware must come first');
  return exchange;
}

/**
 * A JSON answer written in one piece. express's `res.json` turns a body of more than 1,000
 * characters into a Buffer, which node writes after the headers in a second buffer (writev); a
 * string goes out with the headers in one write.
 */
export function sendJson(res: Response, body: unknown): void {
  const text = JSON.stringify(body);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** The lease of an inference request, taken at admission. */
export function leaseOf(res: Response): Lease {
  const lease = exchangeOf(res).lease;
  if (lease === undefined) throw new Error('an inference route without admission');
  return lease;
}
