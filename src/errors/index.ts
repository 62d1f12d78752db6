/**
 * The one catalogue of the service's errors. Each class names its code and the HTTP status it
 * means, so that the HTTP layer maps every error in one place and nothing else decides a status.
 */
export abstract class ZooError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  override readonly name = this.constructor.name;
}

/** The request is malformed: wrong types, missing fields, values out of range. */
export class BadRequestError extends ZooError {
  readonly code = 'BAD_REQUEST';
  readonly status = 400;
}

/** A task or model id that the service does not have; the message lists the valid ones. */
export class NotFoundError extends ZooError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
}

/** The body, image or window is larger than the configured limit. */
export class PayloadTooLargeError extends ZooError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly status = 413;
}

/** The content type (or encoding) is not one the endpoint accepts, or an image is not the type it declares. */
export class UnsupportedMediaTypeError extends ZooError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  readonly status = 415;
}

/** Well-formed but unusable input: an image that cannot be decoded, a window with NaN. */
export class InvalidInputError extends ZooError {
  readonly code = 'INVALID_INPUT';
  readonly status = 422;
}

/** The service cannot take the request now (not ready, overloaded); the client may retry. */
export class UnavailableError extends ZooError {
  readonly code = 'UNAVAILABLE';
  readonly status = 503;
}

/** Too many requests in flight: the client should retry after `retryAfterS` seconds. */
export class OverloadedError extends ZooError {
  readonly code = 'OVERLOADED';
  readonly status = 503;
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
  readonly status = 401;
}

/** A reload found a broken artifact: refused, the artifacts already loaded keep serving. */
export class ReloadRefusedError extends ZooError {
  readonly code = 'RELOAD_REFUSED';
  readonly status = 422;
}

/** A fault of the service itself (never of the request); the body hides its details. */
export class InternalError extends ZooError {
  readonly code = 'INTERNAL';
  readonly status = 500;
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
