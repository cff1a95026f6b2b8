// The errors ConversationClient callers can catch, one class each, and the single
// translator from Temporal client errors to them (callers never see gRPC or failure
// internals, and never have to read message text).
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { ConversationErrorType } from './failure-types.js';
import { InvalidInputError } from './workflows/validation.js';

export { InvalidInputError };

export class ConversationNotFoundError extends Error {
  constructor(readonly conversationId: string) {
    super(`conversation ${conversationId} does not exist`);
    this.name = 'ConversationNotFoundError';
  }
}

export class ConversationClosedError extends Error {
  constructor(
    readonly conversationId: string,
    options?: { cause?: unknown },
  ) {
    super(`conversation ${conversationId} is closed`, options);
    this.name = 'ConversationClosedError';
  }
}

export class ProvisioningFailedError extends Error {
  constructor(
    readonly conversationId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`conversation ${conversationId}: ${message}`, options);
    this.name = 'ProvisioningFailedError';
  }
}

/** Maps what the Temporal client threw for `conversationId` to our error classes; rethrows anything else. */
export function translateClientError(conversationId: string, error: unknown): never {
  if (error instanceof WorkflowNotFoundError) throw new ConversationNotFoundError(conversationId);
  if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowFailedError) {
    const failure = error.cause instanceof ApplicationFailure ? error.cause : undefined;
    switch (failure?.type) {
      case ConversationErrorType.InvalidInput:
        throw new InvalidInputError(String(failure.details?.[0] ?? 'input'), failure.message);
      case ConversationErrorType.Closed:
        throw new ConversationClosedError(conversationId, { cause: error });
      case ConversationErrorType.ProvisioningFailed:
        throw new ProvisioningFailedError(conversationId, failure.message, { cause: error });
    }
  }
  throw error;
}
