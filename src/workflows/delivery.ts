// Delivering queued messages in order and following the turn each one starts. A message
// leaves the queue only once the agent server has it; runtime trouble (paused behind
// our back, gone, unreachable) sends the workflow to recover the runtime and the same
// message is delivered again, which its Idempotency-Key makes a no-op if it had arrived.
import { ApplicationFailure, CancellationScope, condition, isCancellation, log } from '@temporalio/workflow';
import { ConversationErrorType, RUNTIME_ERROR_TYPES } from '../failure-types.js';
import type { WorkflowActivities } from './activities.js';
import { bringUp } from './provisioning.js';
import { describeFailure, publish } from './status.js';
import type { ConversationState } from './state.js';

export async function deliverNext(state: ConversationState, acts: WorkflowActivities, recoveries: { count: number }): Promise<void> {
  const message = state.queue[0];
  if (!message) return;
  if (state.runtime.state !== 'running') await bringUp(state, acts, state.runtime.state === 'paused' ? 'resume' : 'recover');
  const ref = agentRef(state);
  try {
    await acts.deliverMessage({ ...ref, messageId: message.messageId, text: message.text });
  } catch (error) {
    if (isCancellation(error)) throw error;
    const failure = describeFailure(error);
    state.lastError = failure;
    if (failure.type === RUNTIME_ERROR_TYPES.BadRequestError) {
      // The agent server refuses this message itself; retrying cannot help, the rest can go on.
      state.queue.shift();
      log.warn('agent server refused a message; dropped it', { messageId: message.messageId, error: failure.message });
      publish(state);
      return;
    }
    await recover(state, acts, recoveries);
    return;
  }
  recoveries.count = 0;
  state.queue.shift();
  state.delivered++;
  state.executionStatus = 'running';
  state.lastActivityAt = Date.now();
  publish(state);
  await followTurn(state, acts, message.messageId);
}

/** Marks the runtime suspect and provisions again: adopt, resume, or replace it. */
async function recover(state: ConversationState, acts: WorkflowActivities, recoveries: { count: number }): Promise<void> {
  recoveries.count++;
  if (recoveries.count > state.policy.maxRecoveries) {
    throw ApplicationFailure.nonRetryable(
      `runtime kept failing after ${state.policy.maxRecoveries} recoveries: ${state.lastError?.message ?? ''}`,
      ConversationErrorType.RuntimeLost,
    );
  }
  log.warn('runtime trouble; recovering', { error: state.lastError?.message, attempt: recoveries.count });
  await bringUp(state, acts, 'recover');
}

/**
 * Waits for the turn to end, unless a pause or close is requested first: then the
 * turn's activity is cancelled, so an operator never waits for a long agent run.
 */
async function followTurn(state: ConversationState, acts: WorkflowActivities, messageId: string): Promise<void> {
  const startedAt = Date.now();
  const scope = new CancellationScope();
  const turn = scope.run(() => acts.awaitTurn(agentRef(state)));
  const interruptRequested = () => state.requested.pause || state.requested.close !== undefined;
  const interrupted = await Promise.race([turn.then(() => false, () => false), condition(interruptRequested).then(() => true)]);
  if (interrupted) scope.cancel();
  try {
    const outcome = await turn;
    state.executionStatus = outcome.executionStatus;
    state.lastTurn = { messageId, executionStatus: outcome.executionStatus, durationMs: outcome.durationMs, interrupted: false };
  } catch (error) {
    // Only our own interruption may cancel the turn quietly; the workflow's cancellation goes on up.
    if (isCancellation(error) && !interrupted) throw error;
    // The runtime failed mid-turn; the next delivery finds out and recovers it.
    if (!isCancellation(error)) state.lastError = describeFailure(error);
    state.lastTurn = { messageId, executionStatus: state.executionStatus ?? 'unknown', durationMs: Date.now() - startedAt, interrupted };
  }
  state.lastActivityAt = Date.now();
  publish(state);
}

function agentRef(state: ConversationState) {
  return {
    sessionId: state.conversationId,
    runtimeId: state.runtime.id ?? '',
    url: state.runtime.url ?? '',
    agentConversationId: state.agentConversationId ?? '',
  };
}
