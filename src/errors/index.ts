/**
 * The one catalogue of the service's errors: each code with the HTTP status it means and what it
 * says to a client. The error classes take their status from it, the HTTP layer maps every error
 * in one place, the OpenAPI document publishes the codes from it, and a test holds docs/http.md to
 * it, so that nothing else decides a status or lists the codes by hand.
 */
export const ERROR_CATALOGUE = Object.freeze({
  BAD_REQUEST: { status: 400, description: 'The request is malformed: wrong types, missing fields, values out of range.' },
  UNAUTHORIZED: { status: 401, description: 'An admin request without the right bearer token.' },
  NOT_FOUND: { status: 404, description: 'No such route, task or model; the message lists the valid ones.' },
  CONFLICT: { status: 409, description: 'A label for a requestId that already has another one: a label, once given, stands.' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The body, or the image in it, is larger than the configured limit.' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    description: 'A content type or encoding the endpoint does not take, or an image that is not the type it declares.',
  },
  INVALID_INPUT: { status: 422, description: 'Well-formed but unusable input: an image that cannot be decoded, a window of the wrong size or with NaN.' },
  RELOAD_REFUSED: { status: 422, description: 'A reload found a broken artifact; the loaded artifacts keep serving.' },
  INTERNAL: { status: 500, description: 'A fault of the service itself, never of the request; the log has the details under the request id.' },
  UNAVAILABLE: { status: 503, description: 'Not ready or shutting down: retry on another instance (Retry-After).' },
  OVERLOADED: {
    status: 503,
    description: 'Too many requests in flight, or none of the models can meet maxLatencyMs under the current load: retry after Retry-After seconds.',
  },
} as const);

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
export const ERROR_CODES = Object.freeze(Object.keys(ERROR_CATALOGUE) as ErrorCode[]);

export abstract class ZooError extends Error {
  abstract readonly code: ErrorCode;
  override readonly name = this.constructor.name;

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }
}

/** The request is malformed: wrong types, missing fields, values out of range. */
export class BadRequestError extends ZooError {
  readonly code = 'BAD_REQUEST';
}

/** A task or model id that the service does not have; the message lists the valid ones. */
export class NotFoundError extends ZooError {
  readonly code = 'NOT_FOUND';
}

/** A label for a requestId that already has another one. */
export class ConflictError extends ZooError {
  readonly code = 'CONFLICT';
}

/** The body, image or window is larger than the configured limit. */
export class PayloadTooLargeError extends ZooError {
  readonly code = 'PAYLOAD_TOO_LARGE';
}

/** The content type (or encoding) is not one the endpoint accepts, or an image is not the type it declares. */
export class UnsupportedMediaTypeError extends ZooError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
}

/** Well-formed but unusable input: an image that cannot be decoded, a window with NaN. */
export class InvalidInputError extends ZooError {
  readonly code = 'INVALID_INPUT';
}

/** The service cannot take the request now (not ready, shutting down); the client may retry elsewhere. */
export class UnavailableError extends ZooError {
  readonly code = 'UNAVAILABLE';
}

/** Too many requests in flight, or no model can meet the budget now: retry after `retryAfterS` seconds. */
export class OverloadedError extends ZooError {
  readonly code = 'OVERLOADED';
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(message);
  }
}

/** An admin request without the right credentials. */
export class UnauthorizedError extends ZooError {
  readonly code = 'UNAUTHORIZED';
}

/** A reload found a broken artifact: refused, the artifacts already loaded keep serving. */
export class ReloadRefusedError extends ZooError {
  readonly code = 'RELOAD_REFUSED';
}

/** A fault of the service itself (never of the request); the body hides its details. */
export class InternalError extends ZooError {
  readonly code = 'INTERNAL';
}

/**
 * A zoo or premodel artifact on disk is broken or inconsistent. Raised at load time, never for a
 * request: it stops start-up (or a reload) with every problem listed.
 */
export class ArtifactError extends Error {
  override readonly name = 'ArtifactError';
  constructor(
    readonly artifact: string,
    readonly problems: readonly string[],
  ) {
    super(`${artifact} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
