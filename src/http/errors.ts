/**
 * The one place where an error becomes an HTTP response. Typed errors of the catalogue
 * (src/errors) carry their status and code; the client errors of express's own layers (body
 * parser, router) are mapped onto the same catalogue; anything else is an internal fault: 500,
 * logged with its stack, and answered with the request id only (no stack, no path). v1 and the
 * other routes answer `{"error": {"code", "message"}}`; the Open Inference Protocol routes (/v2)
 * answer its `{"error": "<message>"}`.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { AppContext } from './context.js';
import { exchangeOf } from './exchange.js';
import {
  BadRequestError,
  InternalError,
  NotFoundError,
  OverloadedError,
  PayloadTooLargeError,
  UnavailableError,
  UnsupportedMediaTypeError,
  ZooError,
} from '../errors/index.js';

/**
 * What express's own layers throw for a fault of the client: the body parser (body-parser,
 * raw-body) http-errors with a `type`, a body that does not decompress (the zlib error, given
 * status 400), a path parameter that is not valid percent-encoding (the router's URIError, given
 * status 400).
 */
interface LayerError {
  type?: string;
  status?: number;
  message: string;
  body?: string;
  limit?: number;
  length?: number;
  charset?: string;
  encoding?: string;
}

function isLayerError(err: unknown): err is LayerError {
  if (typeof err !== 'object' || err === null) return false;
  const { type, status } = err as { type?: unknown; status?: unknown };
  return typeof type === 'string' || (typeof status === 'number' && status >= 400 && status < 500);
}

/** A body over MAX_BODY_BYTES, by its length where that is known. */
export function tooLarge(length: number | undefined, limit: number | undefined): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `the body is ${length === undefined ? 'larger than the limit' : `${length} bytes`}; the limit (MAX_BODY_BYTES) is ${limit} bytes`,
  );
}

/** A JSON body that does not parse, or parses to something other than an object or array (which the parsers take only). */
export function unparsedJson(text: string, message: string): BadRequestError {
  // Say so rather than call `null` invalid JSON.
  return /^\s*[{[]/.test(text) ? new BadRequestError(`the body is not valid JSON: ${message}`) : new BadRequestError('the body must be a JSON object');
}

/** Maps an error of express's layers onto the catalogue; undefined when the client did not cause it. */
function fromLayer(err: LayerError, contentEncoding: string | undefined): ZooError | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return tooLarge(err.length, err.limit);
    case 'entity.parse.failed':
      return unparsedJson(err.body ?? '', err.message);
    case 'charset.unsupported':
      return new UnsupportedMediaTypeError(`unsupported charset "${err.charset}"; send UTF-8`);
    case 'encoding.unsupported':
      return new UnsupportedMediaTypeError(`unsupported content encoding "${err.encoding}"; send identity`);
    case 'request.aborted':
    case 'request.size.invalid':
      return new BadRequestError(err.message);
  }
  if (err.status === undefined || err.status >= 500) return undefined;
  if (err instanceof URIError) return new BadRequestError(`the path is not valid percent-encoding: ${err.message}`);
  if (err.type === undefined && contentEncoding !== undefined && contentEncoding !== 'identity') {
    return new BadRequestError(`the body is not valid ${contentEncoding} (its Content-Encoding): ${err.message}`);
  }
  return new BadRequestError(err.message);
}

export function isV2(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/');
}

/** The body of an error response in the protocol of `path`. */
export function errorBody(path: string, err: ZooError): object {
  return isV2(path) ? { error: err.message } : { error: { code: err.code, message: err.message } };
}

export function errorHandler(ctx: AppContext): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    let error: ZooError | undefined =
      err instanceof ZooError ? err : isLayerError(err) ? fromLayer(err, req.headers['content-encoding']) : undefined;
    if (error === undefined) {
      const id = exchangeOf(res).id;
      ctx.logger.error({ err, requestId: id, method: req.method, url: req.originalUrl }, 'internal error');
      error = new InternalError(`internal error; the service log has the details under request id ${id}`);
    }
    if (error instanceof OverloadedError) res.setHeader('Retry-After', String(error.retryAfterS));
    else if (error instanceof UnavailableError) {
      // Not ready or shutting down: the client should go elsewhere, so do not keep this connection.
      res.setHeader('Retry-After', String(ctx.config.retryAfterS));
      res.setHeader('Connection', 'close');
    }
    exchangeOf(res).errorCode = error.code;
    res.status(error.status).json(errorBody(req.path, error));
  };
}

/** The last route: a path the API does not have. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(
    new NotFoundError(
      `there is no route ${req.method} ${req.path}; the API is described at GET /openapi.json`,
    ),
  );
};
