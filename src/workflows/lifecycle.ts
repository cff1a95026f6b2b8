// The ends of a runtime's life: pause (STOPPED), close on request (DELETE the agent
// conversation, then stop or pause by policy), archive after retention, and the
// teardown that cancellation and unexpected failures get, so that no runtime outlives
// its conversation. Each gives the user's slot back once the runtime no longer runs.
import { CancellationScope, log } from '@temporalio/workflow';
import type { WorkflowActivities } from './activities.js';
import { releaseSlot } from './admission/slot.js';
import { compensate } from './provisioning.js';
import { leaveShared } from './shared-runtime/binding.js';
import { describeFailure, publish } from './status.js';
import { agentRef } from './state.js';
import type { ConversationState } from './state.js';

/**
 * Pauses the runtime (STOPPED). A runtime that is already gone (the Runtime API restarted,
 * someone stopped it) leaves nothing to pause: that is recorded as runtime state `none`,
 * and the next message or resume provisions a new one. It is never a reason for ERROR.
 * `reason` is set when the system pauses it for another conversation (TOO_MANY_CONVERSATIONS).
 */
export async function pauseRuntime(state: ConversationState, acts: WorkflowActivities, reason?: string): Promise<void> {
  if (state.runtime.state !== 'running' || !state.runtime.id) return;
  // A shared runtime is never paused (other conversations may be mid-turn on it): the
  // conversation only rests, and its next message finds its agent conversation in place.
  const { paused } = state.shared ? { paused: true } : await acts.pauseRuntime({ runtimeId: state.runtime.id });
  state.runtime.state = paused ? 'paused' : 'none';
  if (!paused) state.notice = `runtime ${state.runtime.id} was gone when it was to be paused; the next message starts a new one`;
  state.runtime.pausedAt = Date.now();
  state.status = 'STOPPED';
  if (reason) {
    state.stopReason = reason;
    state.notice = `paused (${reason}): another conversation of user ${state.userId} needed the slot; the next message resumes this one`;
  }
  await releaseSlot(state);
  publish(state);
}

export async function closeConversation(state: ConversationState, acts: WorkflowActivities): Promise<void> {
  if (state.shared) return stopRuntime(state, acts);
  const running = state.runtime.state === 'running';
  if (running && state.runtime.id && state.runtime.url && state.agentConversationId) {
    try {
      // Frees the runtime's tmux sessions and file handles even when it is only paused next.
      await acts.deleteAgentConversation(agentRef(state));
    } catch (error) {
      state.lastError = describeFailure(error);
      log.warn('could not delete the agent conversation; stopping the runtime anyway', { error: state.lastError.message });
    }
  }
  if (state.policy.closePolicy === 'pause' && running) {
    await pauseRuntime(state, acts);
    return;
  }
  if (state.policy.closePolicy === 'pause' && (state.runtime.state === 'paused' || state.runtime.state === 'none')) return;
  await stopRuntime(state, acts);
}

export async function stopRuntime(state: ConversationState, acts: WorkflowActivities): Promise<void> {
  if (state.shared) await leaveShared(state, acts);
  else if (state.runtime.id) await acts.stopRuntime({ sessionId: state.conversationId, runtimeId: state.runtime.id });
  state.runtime.state = 'stopped';
  state.status = 'ARCHIVED';
  await releaseSlot(state);
  publish(state);
}

/** For cancellation and unexpected failures: stop the runtime whatever state it is in. */
export async function teardown(state: ConversationState, acts: WorkflowActivities, status: 'ARCHIVED' | 'ERROR'): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    await compensate(state, acts);
    state.status = status;
    await releaseSlot(state);
    publish(state);
  });
}

