/**
 * The body of a request, read once: its media type parsed once (the route's handler
 * reads it from the exchange, not from another type check), and a body sent as it is (no
 * Content-Encoding; JSON in UTF-8, the only charset clients send) read straight off the request
 * stream. A compressed body, or JSON in another charset, goes to express's own parsers, which
 * inflate and transcode it and whose errors errors.ts maps onto the same catalogue. Reading the
 * plain body here spares each request body-parser's type checks and its transcoding of a UTF-8
 * body (`npm run profile:cpu`: docs/performance.md).
 */
import express, { type Request, type RequestHandler } from 'express';
import { BadRequestError, UnsupportedMediaTypeError } from '../errors/index.js';
import type { AppContext } from './context.js';
import { tooLarge, unparsedJson } from './errors.js';
import { exchangeOf } from './exchange.js';

/** The request's media type, lower case and without parameters; '' when it sent none. */
export function mediaTypeOf(req: Request): string {
  const header = req.headers['content-type'];
  if (header === undefined) return '';
  const semicolon = header.indexOf(';');
  return (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

/** Whether the request carries a body at all (as type-is decides it): a length other than 0, or a chunked one. */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * The bytes of a body sent as it is, up to `limit`, to `done`: refused at its declared length
 * before a byte is read. A callback, not a promise: the route goes on from the stream's 'end'
 * itself, with no hop through the microtask queue.
 */
function readPlain(req: Request, limit: number, done: (err: Error | undefined, bytes?: Buffer) => void): void {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    done(tooLarge(declared, limit));
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // `done` is called once: a stream may still fail after its end, or end after a failure.
  let settled = false;
  const fail = (err: Error) => {
    if (settled) return;
    settled = true;
    req.removeListener('data', onData);
    req.resume(); // drain what is left, so that the answer can be sent on this connection
    done(err);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) fail(tooLarge(undefined, limit));
    else chunks.push(chunk);
  };
  req.on('data', onData);
  req.once('end', () => {
    if (settled) return;
    settled = true;
    done(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  });
  req.once('aborted', () => fail(new BadRequestError('request aborted')));
  req.once('error', fail);
}

function parseJson(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null) return value;
  } catch (err) {
    throw unparsedJson(text, (err as Error).message);
  }
  throw unparsedJson(text, '');
}

/**
 * Reads the body of a route that takes `accepted` media types: JSON (application/json)
 * is parsed into `req.body`, any other accepted type is left as its bytes; the exchange records the
 * media type. 400 without a body (`missing` says what to send), 415 for a type not accepted.
 */
export function bodyReader(ctx: AppContext, accepted: readonly string[], missing: string): RequestHandler {
  const limit = ctx.config.maxBodyBytes;
  const acceptedTypes = new Set(accepted);
  const json = express.json({ limit, type: 'application/json' });
  const raw = express.raw({ limit, type: () => true });
  return (req, res, next) => {
    if (!hasBody(req)) {
      next(new BadRequestError(missing));
      return;
    }
    const mediaType = mediaTypeOf(req);
    if (!acceptedTypes.has(mediaType)) {
      next(new UnsupportedMediaTypeError(`Content-Type "${req.headers['content-type'] ?? ''}" is not accepted; send ${accepted.join(', ')}`));
      return;
    }
    exchangeOf(res).mediaType = mediaType;
    const encoding = req.headers['content-encoding'];
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    const plain = (encoding === undefined || encoding === 'identity') && (charset === undefined || charset === 'utf-8' || charset === 'utf8');
    if (!plain) {
      (mediaType === 'application/json' ? json : raw)(req, res, next);
      return;
    }
    readPlain(req, limit, (err, bytes) => {
      if (err !== undefined) {
        next(err);
        return;
      }
      try {
        req.body = mediaType === 'application/json' ? parseJson(bytes!) : bytes;
      } catch (parseError) {
        next(parseError);
        return;
      }
      next();
    });
  };
}

/** JSON bodies only: 415 for another type, 400 for none; parsed with the size limit. */
export function jsonOnly(ctx: AppContext): RequestHandler {
  return bodyReader(ctx, ['application/json'], 'the request has no body; send JSON (Content-Type: application/json)');
}
