// Message handlers only validate and enqueue; the main loop does all the work. This
// keeps activity order deterministic and no two handlers ever interleave on state.
import { ApplicationFailure, condition, log, setHandler } from '@temporalio/workflow';
import { ConversationErrorType } from '../failure-types.js';
import { admissionUpdate, closeSignal, infoQuery, pauseSignal, resumeSignal, sendMessageSignal, sendMessageUpdate, waitUntilReadyUpdate } from './messages.js';
import type { MessageAck, MessageOutcome, SendMessageInput } from './messages.js';
import { installSlotHandlers, limitFailure } from './admission/slot.js';
import { workflowMetrics } from './metrics.js';
import { DEDUPE_WINDOW, recordRefusal, toAdmissionView, toInfo } from './state.js';
import { currentTrace } from './tracing.js';
import { refusedStart } from './start-settings.js';
import type { ConversationState } from './state.js';
import { InvalidInputError, validateMessage } from './validation.js';

export function installHandlers(state: ConversationState): void {
  setHandler(
    sendMessageUpdate,
    async (input) => {
      const ack = enqueue(state, input);
      if (input.waitFor !== 'turn') return ack;
      await condition(() => outcomeOf(state, input.messageId) !== undefined || isOver(state, input.messageId));
      const outcome = outcomeOf(state, input.messageId) ?? { messageId: input.messageId, result: 'undelivered', reason: `conversation ${state.status.toLowerCase()} first` };
      return { ...ack, outcome };
    },
    {
      validator: (input) => checkIncoming(state, input),
      description: "Queue a user message; returns its queue position (or duplicate). With waitFor 'turn', returns once the agent's turn on it ended.",
    },
  );
  setHandler(
    sendMessageSignal,
    (input) => {
      try {
        checkIncoming(state, input);
      } catch (error) {
        // A signal cannot be refused to its sender. The client checks what it can, but only the
        // conversation knows the deployment's message limit: a message over it is refused here,
        // visibly (outcomes, lastRefused), never dropped in silence. Anything else is a bypass.
        const messageId = (input as { messageId?: unknown } | undefined)?.messageId;
        if (error instanceof ApplicationFailure && error.type === ConversationErrorType.InvalidInput && typeof messageId === 'string' && messageId !== '') recordRefusal(state, messageId, error.message, 'deployment');
        log.warn('refused an invalid or late message signal', { error: String(error) });
        return;
      }
      enqueue(state, input);
    },
    { description: 'Queue a user message (fire and forget).' },
  );
  setHandler(
    waitUntilReadyUpdate,
    async () => {
      await condition(() => state.status !== 'STARTING');
      if (state.admission?.phase === 'rejected') throw limitFailure(state.admission);
      const refused = refusedStart(state);
      if (refused) throw refused;
      if (state.status === 'ERROR') {
        throw ApplicationFailure.nonRetryable(state.lastError?.message ?? 'provisioning failed', ConversationErrorType.ProvisioningFailed);
      }
      return toInfo(state);
    },
    { description: 'Resolves once provisioning has ended.' },
  );
  setHandler(pauseSignal, () => {
    state.requested.pause = true;
    state.requested.resume = false;
  });
  setHandler(resumeSignal, () => {
    state.requested.resume = true;
    state.requested.pause = false;
  });
  setHandler(closeSignal, (input) => {
    state.requested.close ??= { reason: input?.reason };
  });
  setHandler(
    admissionUpdate,
    async () => {
      // After the policy is settled (in the same workflow task), so a start refused for its overrides says so here; such a start never asks for a slot.
      await condition(() => refusedStart(state) !== undefined || (!state.policyPending && state.admission?.phase !== 'requesting'));
      const refused = refusedStart(state);
      if (refused) throw refused;
      if (!state.admission) return { state: 'unlimited' as const };
      if (state.admission.phase === 'rejected') throw limitFailure(state.admission);
      return toAdmissionView(state.admission);
    },
    { description: 'Resolves once admission is decided: a slot held, a place in the queue, or no limit; fails with ConversationLimitError if the start was rejected.' },
  );
  installSlotHandlers(state);
  setHandler(infoQuery, () => toInfo(state));
}

function outcomeOf(state: ConversationState, messageId: string): MessageOutcome | undefined {
  return state.outcomes?.findLast((outcome) => outcome.messageId === messageId);
}

/** The conversation ended, or is closing, with the message never reaching the agent. */
function isOver(state: ConversationState, messageId: string): boolean {
  const queued = state.queue.some((message) => message.messageId === messageId);
  return state.status === 'ARCHIVED' || state.status === 'ERROR' || (state.requested.close !== undefined && !queued);
}

/** The update validator: synchronous, and throws before anything reaches history. */
function checkIncoming(state: ConversationState, input: SendMessageInput): void {
  if (state.requested.close || state.status === 'ARCHIVED' || state.status === 'ERROR') {
    throw ApplicationFailure.nonRetryable(`conversation ${state.conversationId} is closed`, ConversationErrorType.Closed);
  }
  try {
    validateMessage(input, state.policy.maxMessageBytes);
    if (input.waitFor !== undefined && input.waitFor !== 'queued' && input.waitFor !== 'turn') {
      throw new InvalidInputError('waitFor', `waitFor must be 'queued' or 'turn', not ${JSON.stringify(input.waitFor)}`);
    }
  } catch (error) {
    if (error instanceof InvalidInputError) throw ApplicationFailure.nonRetryable(error.message, ConversationErrorType.InvalidInput, error.field);
    throw error;
  }
}

function enqueue(state: ConversationState, input: SendMessageInput): MessageAck {
  if (state.recentMessageIds.includes(input.messageId)) {
    state.duplicates++;
    workflowMetrics.messageDeduplicated();
    return { messageId: input.messageId, position: 0, duplicate: true };
  }
  state.recentMessageIds.push(input.messageId);
  if (state.recentMessageIds.length > DEDUPE_WINDOW) state.recentMessageIds.splice(0, state.recentMessageIds.length - DEDUPE_WINDOW);
  const trace = currentTrace();
  state.queue.push({ messageId: input.messageId, text: input.text, receivedAt: Date.now(), ...(trace && { trace }) });
  state.received++;
  workflowMetrics.messageReceived();
  state.lastActivityAt = Date.now();
  return { messageId: input.messageId, position: state.queue.length, duplicate: false };
}
