// Every failure type name that crosses the Temporal boundary, in one pure module that
// both the workflow sandbox and Node code can import. Retry policies and the workflow
// dispatch on these names, never on message text.
import { NON_RETRYABLE_ERROR_TYPES, RUNTIME_ERROR_TYPES } from './runtime-api/errors.js';

export { NON_RETRYABLE_ERROR_TYPES, RUNTIME_ERROR_TYPES };

/** Raised by activities. */
export const ActivityErrorType = {
  /** Pod in crashloopbackoff, failed or unknown: waiting will not help. */
  RuntimeUnavailable: 'RuntimeUnavailableError',
  /** Not alive within the init timeout. */
  RuntimeInitTimeout: 'RuntimeInitTimeoutError',
  /** The runtime vanished while we waited for it: provision another. */
  RuntimeGone: 'RuntimeGoneError',
} as const;

/** Raised by the conversation workflow (the failures its callers see). */
export const ConversationErrorType = {
  InvalidInput: 'InvalidInputError',
  ProvisioningFailed: 'ProvisioningFailedError',
  RuntimeLost: 'RuntimeLostError',
  Closed: 'ConversationClosedError',
  /** The user's concurrent-conversation limit is reached and the policy is `reject`. */
  LimitReached: 'ConversationLimitError',
  /** The starting client set a policy setting that the deployment does not let clients set. */
  PolicyOverrideRefused: 'PolicyOverrideError',
} as const;

/** The runtime went away or paused behind our back: the workflow recovers instead of retrying blindly. */
export const RUNTIME_TROUBLE_TYPES: readonly string[] = [
  RUNTIME_ERROR_TYPES.RuntimePausedError,
  RUNTIME_ERROR_TYPES.RuntimeDisconnectedError,
  RUNTIME_ERROR_TYPES.RuntimeRestartedError,
];
