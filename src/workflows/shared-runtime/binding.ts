// The conversation's side of a shared runtime: instead of a runtime of its own, the
// conversation attaches to a runtime that the runtime's owner workflow provisions, and
// keeps its own agent conversation (and workspace folder) in it. Leaving it deletes that
// agent conversation, so nothing piles up in a runtime that outlives the conversation,
// and detaches, so the owner can stop the runtime once nobody is left. Only runs that
// were started bound to a shared runtime take these paths, so no earlier history changes.
import { getExternalWorkflowHandle, log, workflowInfo } from '@temporalio/workflow';
import type { WorkflowActivities } from '../activities.js';
import { describeFailure } from '../status.js';
import { agentRef } from '../state.js';
import type { ConversationState } from '../state.js';
import { detachSignal, poolMembers, sharedRuntimeWorkflowId } from './messages.js';

/** Attaches (reporting the current runtime lost when recovering) and creates the agent conversation; returns the runtime's ID. */
export async function provisionShared(state: ConversationState, acts: WorkflowActivities, recovering: boolean): Promise<{ runtimeId: string; action: 'adopted' }> {
  const shared = state.shared as NonNullable<ConversationState['shared']>;
  // Chosen once and kept: a retried pick must not attach the conversation to two runtimes.
  // A pool of one needs no pick (an activity less per conversation, which counts in a batch).
  const members = poolMembers(shared.binding);
  shared.member ??= members.length === 1 ? members[0] : (await acts.pickSharedRuntime({ binding: shared.binding })).member;
  const member = shared.member as string;
  const lostRuntimeId = recovering ? state.runtime.id : undefined;
  const ref = await acts.attachSharedRuntime({ member, conversationId: state.conversationId, lostRuntimeId, maxConcurrentRuns: shared.binding.maxConcurrentRuns });
  Object.assign(state.runtime, { sessionId: ref.sessionId, id: ref.runtimeId, url: ref.url });
  const agent = await acts.createAgentConversation({ sessionId: ref.sessionId, runtimeId: ref.runtimeId, url: ref.url, conversationId: state.conversationId });
  state.agentConversationId = agent.agentConversationId;
  state.agentUserMessages = agent.userMessages;
  state.runtime.generation = (state.runtime.generation ?? 0) + 1;
  return { runtimeId: ref.runtimeId, action: 'adopted' };
}

/** Deletes the agent conversation (best effort: a runtime that is gone holds nothing) and detaches. Never throws. */
export async function leaveShared(state: ConversationState, acts: WorkflowActivities): Promise<void> {
  const shared = state.shared;
  if (!shared?.member) return;
  if (state.agentConversationId && state.runtime.id && state.runtime.url) {
    try {
      await acts.deleteAgentConversation(agentRef(state));
    } catch (error) {
      log.warn('could not delete the agent conversation on the shared runtime', { error: describeFailure(error).message });
    }
  }
  try {
    await getExternalWorkflowHandle(sharedRuntimeWorkflowId(workflowInfo().taskQueue, shared.member)).signal(detachSignal, { conversationId: state.conversationId });
  } catch (error) {
    // Its owner has ended (it stopped the runtime): there is nothing to detach from.
    log.info('shared runtime owner not running; nothing to detach from', { member: shared.member, error: String(error) });
  }
  state.runtime.state = 'stopped';
}
