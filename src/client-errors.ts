// The errors ConversationClient callers can catch, one class each, and the single
// translator from Temporal client errors to them (callers never see gRPC or failure
// internals, and never have to read message text).
import { WorkflowFailedError, WorkflowUpdateFailedError, isGrpcServiceError } from '@temporalio/client';
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
    options?: { cause?: unknown; detail?: string },
  ) {
    super(`conversation ${conversationId} is closed${options?.detail ? `: ${options.detail}` : ''}`, options);
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

/** The user already runs as many conversations as their limit allows and the policy is `reject`: nothing was started. */
export class ConversationLimitError extends Error {
  constructor(
    readonly conversationId: string,
    readonly limit: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`conversation ${conversationId} was not started: ${message}`, options);
    this.name = 'ConversationLimitError';
  }
}

/**
 * The start set a policy setting the deployment does not let a client set per conversation
 * (the workers' CONVERSATION_POLICY_OVERRIDES): the run ended before anything was
 * provisioned or delivered. Only the workers know what they allow, so this comes from them.
 */
export class PolicyOverrideError extends Error {
  constructor(
    readonly conversationId: string,
    /** The settings refused, by their CONVERSATION_POLICY_OVERRIDES names. */
    readonly refused: readonly string[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`conversation ${conversationId} was not started: ${message}`, options);
    this.name = 'PolicyOverrideError';
  }
}

/** What a call was doing when Temporal could not be reached, so the error can say what did not happen. */
export interface ClientCall {
  /** Where the client connects, for the message. */
  readonly address: string;
  /** e.g. `pause conversation c-42`. */
  readonly action: string;
  /** Set when the call carried a user message: the ID to send it again with. */
  readonly messageId?: string;
  /** Whether the call asked for a change (a message, pause, close...) rather than a read. */
  readonly change?: boolean;
  /** Whether the call starts the conversation's run (update-with-start): it can leave a run behind when the rest fails. */
  readonly starts?: boolean;
}

/**
 * Temporal did not answer (refused connection, server down, deadline passed). Whatever
 * the call asked for was not acknowledged: a message may or may not have arrived, and
 * sending it again with the same `messageId` is safe because the conversation drops repeats.
 */
export class TemporalUnavailableError extends Error {
  readonly address: string;
  readonly messageId: string | undefined;
  constructor(call: ClientCall, reason: string, options?: { cause?: unknown }) {
    const what = call.action ? ` to ${call.action}` : '';
    let consequence = `; expected a Temporal frontend (gRPC) there (\`npm start\` runs one on 127.0.0.1:TEMPORAL_PORT, default 7233): is the server running? set TEMPORAL_ADDRESS to its host:port`;
    if (call.messageId !== undefined) {
      consequence =
        `: the message was NOT acknowledged (it may or may not have arrived); send it again with the same messageId ` +
        `"${call.messageId}", which the conversation accepts once`;
    } else if (call.change) {
      consequence = ': the request was NOT acknowledged; it is safe to send it again';
    }
    super(`cannot reach Temporal at ${call.address}${what} (${reason})${consequence}`, options);
    this.name = 'TemporalUnavailableError';
    this.address = call.address;
    this.messageId = call.messageId;
  }
}

/**
 * Temporal answered, but no worker runs the workflow behind the call now: its workflow task
 * is failing (a payload key the worker lacks, a fault in a deployed workflow), or no worker
 * answered a query in time. The fix is on the worker, whose log says why. A message or change
 * was not taken; a start (update-with-start) has created the run all the same.
 */
export class ConversationWorkerError extends Error {
  /** The conversation's, or for a user's admission, its admission workflow's. */
  readonly workflowId: string;
  readonly messageId: string | undefined;
  constructor(workflowId: string, call: ClientCall, reason: string, options?: { cause?: unknown }) {
    const consequences: string[] = [];
    if (call.messageId !== undefined) {
      consequences.push(`the message was NOT accepted: send it again with the same messageId "${call.messageId}" once a worker runs the conversation`);
    } else if (call.change && !call.starts) {
      consequences.push('the request was NOT acknowledged: send it again once a worker runs the conversation');
    }
    // A caller told only "cannot start" could pick a new ID and leave this run to take a slot and a runtime.
    if (call.starts) consequences.push('the run was created all the same and goes on once a worker can run it: start again with the same ID to join it, or close it');
    const what = call.action ? `cannot ${call.action}: ` : '';
    super(`${what}no worker can run its workflow now (${reason}); the worker's log says why${consequences.map((c) => `; ${c}`).join('')}`, options);
    this.name = 'ConversationWorkerError';
    this.workflowId = workflowId;
    this.messageId = call.messageId;
  }
}

/**
 * The Runtime API (which the client reads events through) did not answer, or refused the
 * key. Says where it was looked for and which variables point elsewhere.
 */
export class RuntimeApiUnavailableError extends Error {
  constructor(
    readonly url: string,
    action: string,
    reason: string,
    options?: { cause?: unknown; unauthorized?: boolean },
  ) {
    const fix = options?.unauthorized
      ? 'it refused the key: set RUNTIME_API_KEY to its X-API-Key (a local `npm start` keeps it in DATA_DIR/runtime-api.key)'
      : 'expected a Runtime API there (`npm start` runs one on 127.0.0.1:RUNTIME_API_PORT, default 8000): is it running? set RUNTIME_API_URL (and RUNTIME_API_KEY) to it';
    super(`cannot reach the Runtime API at ${url} to ${action} (${reason}); ${fix}`, options);
    this.name = 'RuntimeApiUnavailableError';
  }
}

/** The gRPC status codes the clients tell apart. */
export const GRPC = { DEADLINE_EXCEEDED: 4, FAILED_PRECONDITION: 9, UNAVAILABLE: 14 } as const;

/** gRPC codes that mean the server did not answer, as opposed to answering no. */
const UNAVAILABLE_CODES = new Map<number, string>([
  [GRPC.UNAVAILABLE, 'UNAVAILABLE'],
  [GRPC.DEADLINE_EXCEEDED, 'DEADLINE_EXCEEDED'],
]);

type GrpcError = Error & { code: number; details: string };

/** `error` and its causes that are gRPC errors, outermost first (the SDK wraps them in ServiceError). */
function* grpcErrors(error: unknown): Generator<GrpcError> {
  for (let current = error; current instanceof Error; current = current.cause) if (isGrpcServiceError(current)) yield current;
}

/** workerReason's verdict when the workflow task fails; the client then reads why from the history. */
export const WORKFLOW_TASK_FAILING = 'its workflow task is failing';

/**
 * The reason, when Temporal answered that no worker runs the workflow now; undefined
 * otherwise. Temporal says so only in its text: an update or query refused "due to Workflow
 * Task in failed state" (or aborted by an "unexpected workflow task failure"), and a query
 * that "timed out before a worker could process it". A deadline the client's own gRPC call
 * ran out of says "Deadline exceeded after…", and stays an unavailable Temporal.
 */
export function workerReason(error: unknown): string | undefined {
  for (const grpc of grpcErrors(error)) {
    // The SDK moves an update-with-start's own failure into `message`, leaving the generic one in `details`.
    const text = `${grpc.details} ${grpc.message}`;
    if (grpc.code === GRPC.FAILED_PRECONDITION && /Workflow Task in failed state|unexpected workflow task failure/i.test(text)) return WORKFLOW_TASK_FAILING;
    if (grpc.code === GRPC.DEADLINE_EXCEEDED && /before a worker could process it/i.test(text)) return 'no worker answered the query in time';
  }
  return undefined;
}

/** The reason, when `error` (or a cause of it) says Temporal could not be reached; undefined otherwise. */
export function unavailableReason(error: unknown): string | undefined {
  for (const current of grpcErrors(error)) {
    const code = UNAVAILABLE_CODES.get(current.code);
    // grpc-js appends an empty "Resolution note:" to connection failures.
    if (code !== undefined) return `${code}: ${current.details.replace(/\.?\s*Resolution note:\s*$/, '')}`;
  }
  return undefined;
}

/** Maps what the Temporal client threw for `conversationId` to our error classes; rethrows anything else. */
export function translateClientError(conversationId: string, error: unknown, call?: ClientCall): never {
  const noWorker = call && workerReason(error);
  if (call && noWorker) throw new ConversationWorkerError(conversationId, call, noWorker, { cause: error });
  const unavailable = call && unavailableReason(error);
  if (call && unavailable) throw new TemporalUnavailableError(call, unavailable, { cause: error });
  if (error instanceof WorkflowNotFoundError) throw new ConversationNotFoundError(conversationId);
  if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowFailedError) {
    const failure = error.cause instanceof ApplicationFailure ? error.cause : undefined;
    switch (failure?.type) {
      case ConversationErrorType.InvalidInput:
        throw new InvalidInputError(String(failure.details?.[0] ?? 'input'), failure.message);
      case ConversationErrorType.Closed:
        throw new ConversationClosedError(conversationId, { cause: error });
      case ConversationErrorType.LimitReached:
        throw new ConversationLimitError(conversationId, Number((failure.details?.[0] as { limit?: unknown } | undefined)?.limit ?? 0), failure.message, { cause: error });
      case ConversationErrorType.PolicyOverrideRefused:
        throw new PolicyOverrideError(conversationId, refusedSettings(failure.details?.[0]), failure.message, { cause: error });
      case ConversationErrorType.ProvisioningFailed:
        throw new ProvisioningFailedError(conversationId, failure.message, { cause: error });
    }
  }
  throw error;
}

function refusedSettings(details: unknown): string[] {
  const refused = (details as { refused?: unknown } | undefined)?.refused;
  return Array.isArray(refused) ? refused.map(String) : [];
}
