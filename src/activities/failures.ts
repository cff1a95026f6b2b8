// One translator from the HTTP clients' typed errors to Temporal failures: the failure
// type is the error class name (so retry policies and the workflow can name it), the
// retryability comes from the error, a 429's Retry-After becomes the next retry delay,
// and the original error is kept as the cause.
import { ApplicationFailure } from '@temporalio/common';
import { RateLimitedError, RuntimeHttpError } from '../runtime-api/index.js';

export function toActivityFailure(error: unknown): unknown {
  if (!(error instanceof RuntimeHttpError)) return error;
  return ApplicationFailure.create({
    type: error.name,
    message: error.message,
    nonRetryable: !error.retryable,
    nextRetryDelay: error instanceof RateLimitedError && error.retryAfterMs !== undefined ? error.retryAfterMs : undefined,
    details: [{ label: error.label, status: error.status ?? null }],
    cause: error,
  });
}

/** Wraps an activity so every HTTP error leaves it translated. */
export function translated<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (error) {
      throw toActivityFailure(error);
    }
  };
}
