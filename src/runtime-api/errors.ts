// One error family for both wire protocols. Callers (activities) branch on the class,
// never on message text. Class names matter: Temporal records an activity failure's
// type as the error's constructor name, and `nonRetryableErrorTypes` matches on it.
import { redact } from './redaction.js';

export interface RuntimeHttpErrorDetails {
  /** The call that failed, e.g. `runtime-api.getSession`. */
  label: string;
  /** HTTP status, or undefined when no response arrived (network, timeout, bad input). */
  status?: number;
  /** First ~300 characters of the response body, scrubbed of secrets; undefined when there was none. */
  bodyExcerpt?: string;
  cause?: unknown;
}

export abstract class RuntimeHttpError extends Error {
  readonly label: string;
  readonly status: number | undefined;
  readonly bodyExcerpt: string | undefined;
  /** Whether repeating the same call may succeed; mirrored by NON_RETRYABLE_ERROR_TYPES. */
  abstract readonly retryable: boolean;

  constructor(message: string, details: RuntimeHttpErrorDetails) {
    // Scrubbed before super(), which writes the message into the stack trace too. The
    // clients scrub what they sent already (see http.ts); this catches registered secrets
    // and anything keyed like one whoever builds the error.
    super(redact(message), { cause: details.cause });
    this.name = new.target.name;
    this.label = details.label;
    this.status = details.status;
    this.bodyExcerpt = details.bodyExcerpt === undefined ? undefined : redact(details.bodyExcerpt);
  }
}

/** 404 from the Runtime API: the runtime or session does not exist. */
export class NotFoundError extends RuntimeHttpError {
  readonly retryable = false;
}

/** 401/403: the API key or session API key is wrong; retrying cannot fix it. */
export class UnauthorizedError extends RuntimeHttpError {
  readonly retryable = false;
}

/** 503 from an agent server: the runtime behind its URL is paused (resume, then retry). */
export class RuntimePausedError extends RuntimeHttpError {
  readonly retryable = true;
}

/** 404/502/504 from an agent server: the runtime is not answering (restart or network). */
export class RuntimeDisconnectedError extends RuntimeHttpError {
  readonly retryable = true;
}

/**
 * The agent server restarted while a turn was followed (it answered again, but has been up
 * for less time than it was out of reach). Its run died with it, and the real server
 * reports the saved status ("running") until the conversation is reloaded, so waiting
 * would wait forever: the workflow recovers the runtime and carries the turn on.
 */
export class RuntimeRestartedError extends RuntimeHttpError {
  readonly retryable = false;
}

/** 429: wait `retryAfterMs` (from Retry-After) when the server said how long. */
export class RateLimitedError extends RuntimeHttpError {
  readonly retryable = true;
  constructor(
    message: string,
    details: RuntimeHttpErrorDetails,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message, details);
  }
}

/** A 2xx whose body is not JSON or does not match the contract's schema. */
export class InvalidResponseError extends RuntimeHttpError {
  readonly retryable = false;
}

/** Connect, headers or body timeout, or a 408 from the server. */
export class RequestTimeoutError extends RuntimeHttpError {
  readonly retryable = true;
}

/** No usable response: connection refused or reset, DNS failure, closed dispatcher... */
export class NetworkError extends RuntimeHttpError {
  readonly retryable = true;
}

/** Any other 4xx (400, 409, 422, ...), or a request rejected by its schema before sending. */
export class BadRequestError extends RuntimeHttpError {
  readonly retryable = false;
}

/** Any other 5xx; on the Runtime API this includes 502, 503 and 504. */
export class ServerError extends RuntimeHttpError {
  readonly retryable = true;
}

/** Class names as Temporal sees them (ApplicationFailure `type`). */
export const RUNTIME_ERROR_TYPES = {
  NotFoundError: 'NotFoundError',
  UnauthorizedError: 'UnauthorizedError',
  RuntimePausedError: 'RuntimePausedError',
  RuntimeDisconnectedError: 'RuntimeDisconnectedError',
  RuntimeRestartedError: 'RuntimeRestartedError',
  RateLimitedError: 'RateLimitedError',
  InvalidResponseError: 'InvalidResponseError',
  RequestTimeoutError: 'RequestTimeoutError',
  NetworkError: 'NetworkError',
  BadRequestError: 'BadRequestError',
  ServerError: 'ServerError',
} as const;
export type RuntimeErrorType = keyof typeof RUNTIME_ERROR_TYPES;

/** For an activity's retry policy `nonRetryableErrorTypes`. */
export const NON_RETRYABLE_ERROR_TYPES: string[] = [
  RUNTIME_ERROR_TYPES.NotFoundError,
  RUNTIME_ERROR_TYPES.UnauthorizedError,
  RUNTIME_ERROR_TYPES.InvalidResponseError,
  RUNTIME_ERROR_TYPES.BadRequestError,
  RUNTIME_ERROR_TYPES.RuntimeRestartedError,
];
