// Bringing a runtime up — at start, on resume, and when it disappeared — with
// compensation: if any step fails after a runtime may have been started or resumed,
// stop whatever runtime the session has (in a scope that cancellation cannot
// interrupt), record why, and end the conversation in ERROR.
import { ApplicationFailure, CancellationScope, isCancellation, log } from '@temporalio/workflow';
import { ActivityErrorType, ConversationErrorType } from '../failure-types.js';
import { GONE_RETRIES } from './activities.js';
import type { WorkflowActivities } from './activities.js';
import { acquireSlot, releaseSlot } from './admission/slot.js';
import { fewerTasksToProvision } from './fewer-tasks.js';
import { workflowMetrics } from './metrics.js';
import { leaveShared, provisionShared } from './shared-runtime/binding.js';
import { describeFailure, publish } from './status.js';
import { deliveryBaseline } from './state.js';
import type { ConversationState, QueuedMessage } from './state.js';
import type { EnsuredRuntime } from '../activities/runtime-steps.js';
import type { Delivery } from '../activities/agent.js';

export type BringUpReason = 'start' | 'resume' | 'recover';

/**
 * Returns once the runtime runs, or without provisioning when the conversation was asked
 * to close while it waited for a slot of its user's. `limited`: whether the user has an
 * admission limit, when the run's start settings already said. `message`: a queued message
 * the provisioning activity may deliver too; the result is its delivery when it did.
 */
export async function bringUp(state: ConversationState, acts: WorkflowActivities, reason: BringUpReason, limited?: boolean, message?: QueuedMessage): Promise<Delivery | undefined> {
  // Only the first provisioning of a run may be rejected; a resume carries an acknowledged message, which must not be dropped.
  const purpose = reason === 'start' ? 'start' : 'resume';
  if (!(await acquireSlot(state, purpose, limited))) return undefined;
  const previousRuntime = state.runtime.id;
  // After the slot: waiting for admission is not provisioning time.
  const startedAt = Date.now();
  if (reason === 'start') state.status = 'STARTING';
  state.runtime.state = 'starting';
  publish(state);
  let delivery: Delivery | undefined;
  try {
    const runtime: Pick<EnsuredRuntime, 'runtimeId' | 'action'> & { readonly delivery?: Delivery } = state.shared
      ? await provisionShared(state, acts, reason === 'recover')
      : await provision(state, acts, message);
    delivery = runtime.delivery;
    workflowMetrics.provisioned(runtime.action, reason, Date.now() - startedAt);
    // Also on resume: a paused runtime can be reaped behind our back, and then a new one serves.
    if (previousRuntime && previousRuntime !== runtime.runtimeId) {
      state.runtime.replaced++;
      workflowMetrics.runtimeReplaced();
      state.notice = `runtime ${previousRuntime} was gone; replaced by ${runtime.runtimeId}`;
    } else if (reason === 'start' && runtime.action !== 'started') {
      state.notice = `reopened: ${runtime.action} runtime ${runtime.runtimeId}`;
    }
  } catch (error) {
    if (isCancellation(error)) throw error;
    await compensate(state, acts);
    workflowMetrics.compensated();
    workflowMetrics.provisioned('failed', reason, Date.now() - startedAt);
    state.status = 'ERROR';
    state.lastError = describeFailure(error);
    await releaseSlot(state);
    publish(state);
    throw ApplicationFailure.create({
      type: ConversationErrorType.ProvisioningFailed,
      message: `provisioning failed (${reason}): ${state.lastError.type}: ${state.lastError.message}`,
      nonRetryable: true,
      cause: error instanceof Error ? error : undefined,
    });
  }
  state.runtime.state = 'running';
  state.runtime.pausedAt = undefined;
  state.stopReason = undefined;
  state.status = 'RUNNING';
  state.lastActivityAt = Date.now();
  publish(state);
  return delivery;
}

/** Ensures a runtime, waits until it is alive and creates the agent conversation in it (and may deliver `message`). */
async function provision(state: ConversationState, acts: WorkflowActivities, message?: QueuedMessage): Promise<EnsuredRuntime & { readonly delivery?: Delivery }> {
  if (!fewerTasksToProvision()) return provisionStepByStep(state, acts);
  // Cancellable: the activity itself lets a POST /start in flight finish before it reports
  // the cancellation, and the workflow waits for that report (see activities/provisioning.ts).
  const runtime = await acts.provisionRuntime({
    sessionId: state.conversationId,
    timeoutMs: state.policy.initTimeoutMs,
    goneRetries: GONE_RETRIES,
    ...(message && { message: { messageId: message.messageId, text: message.text, userMessagesBefore: deliveryBaseline(state, message) } }),
  });
  state.runtime.id = runtime.runtimeId;
  state.runtime.url = runtime.url;
  state.agentConversationId = runtime.agentConversationId;
  state.agentUserMessages = runtime.userMessages;
  state.runtime.generation = (state.runtime.generation ?? 0) + 1;
  return runtime;
}

/** As runs from before the patch provision: one activity per step, a workflow task between each. */
async function provisionStepByStep(state: ConversationState, acts: WorkflowActivities): Promise<EnsuredRuntime> {
  for (let attempt = 0; ; attempt++) {
    // The compensation stops by session, so it also covers a start that created a
    // runtime and then timed out before we learned the runtime's ID. Cancellation must
    // not cut this step short: a cancelled activity is settled for the workflow at once
    // while the worker may still run it, so a POST /start in flight would create its
    // runtime after the compensation looked for it (seen: such a runtime leaked).
    // Once it returns, the next step fails at once in the cancelled scope.
    const runtime = await CancellationScope.nonCancellable(() => acts.ensureRuntime({ sessionId: state.conversationId }));
    state.runtime.id = runtime.runtimeId;
    state.runtime.url = runtime.url;
    try {
      await acts.waitUntilAlive({ ...runtime, timeoutMs: state.policy.initTimeoutMs });
    } catch (error) {
      if (attempt >= GONE_RETRIES || failureType(error) !== ActivityErrorType.RuntimeGone) throw error;
      log.warn('runtime vanished while starting; provisioning another', { runtimeId: runtime.runtimeId });
      continue;
    }
    const agent = await acts.createAgentConversation(runtime);
    state.agentConversationId = agent.agentConversationId;
    state.agentUserMessages = agent.userMessages;
    state.runtime.generation = (state.runtime.generation ?? 0) + 1;
    return runtime;
  }
}

function failureType(error: unknown): string | undefined {
  return (error as { cause?: { type?: string } }).cause?.type;
}

/** Stops the session's runtime; never throws, and cancellation cannot cut it short. */
export async function compensate(state: ConversationState, acts: WorkflowActivities): Promise<void> {
  // A shared runtime serves other conversations too: leave it, never stop it.
  if (state.shared) return CancellationScope.nonCancellable(() => leaveShared(state, acts));
  await CancellationScope.nonCancellable(async () => {
    try {
      const { stopped } = await acts.stopSessionRuntime({ sessionId: state.conversationId });
      log.info('compensation stopped the runtime', { runtimeId: stopped });
    } catch (error) {
      log.error('compensation could not stop the runtime', { error: String(error) });
    }
  });
  state.runtime.state = 'stopped';
}
