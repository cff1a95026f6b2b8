// ConversationWorkflow: one durable workflow per conversation, its workflow ID being
// the conversation ID, so the Temporal server guarantees a single owner. The main loop
// provisions the runtime, delivers queued messages in order, follows each turn, pauses
// the runtime when idle and archives it after retention, and continues as new at quiet
// points to keep history small.
import { ApplicationFailure, ContinueAsNew, allHandlersFinished, condition, continueAsNew, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { ConversationErrorType } from '../failure-types.js';
import { activitiesFor } from './activities.js';
import type { WorkflowActivities } from './activities.js';
import { TOO_MANY_CONVERSATIONS } from './admission/messages.js';
import { evictionDue, initialHolding, isLimitReached, releaseSlot, reportQuiet, slotWorkPending } from './admission/slot.js';
import { deliverNext } from './delivery.js';
import { installHandlers } from './handlers.js';
import { workflowMetrics } from './metrics.js';
import { closeConversation, pauseRuntime, stopRuntime, teardown } from './lifecycle.js';
import { bringUp } from './provisioning.js';
import { describeFailure, publish } from './status.js';
import { adoptDeploymentPolicy, initialPolicy } from './start-settings.js';
import { toInfo } from './state.js';
import type { ConversationInfo, ConversationPolicy, ConversationState } from './state.js';
import type { SharedRuntimeBinding } from './shared-runtime/messages.js';
import type { PolicyOverrides } from './policy.js';

export interface ConversationWorkflowInput {
  readonly conversationId: string;
  readonly userId: string;
  /**
   * The starting client's whole policy: what runs from before the deployment policy were
   * started with, and what they keep. A run started since ignores it (with a notice).
   */
  readonly policy?: Partial<ConversationPolicy>;
  /** Settings the starting client sets for this conversation; the deployment refuses any it does not allow. */
  readonly policyOverrides?: PolicyOverrides;
  /** Live on this shared runtime (pool) instead of a runtime of its own. */
  readonly runtime?: SharedRuntimeBinding;
  /** A first message, queued from the start (a batch item's prompt). */
  readonly message?: { readonly messageId: string; readonly text: string };
  /** Close once every queued message's turn has ended, returning the agent's last reply. */
  readonly closeAfterReply?: boolean;
  /** Set only when the workflow continues as new. */
  readonly state?: ConversationState;
}

export interface ConversationResult {
  readonly info: ConversationInfo;
  /** Messages still queued when the conversation closed. */
  readonly undelivered: number;
  /** The agent's last reply, when the conversation was started with `closeAfterReply` (null: it gave none). */
  readonly reply?: string | null;
}

export async function conversationWorkflow(input: ConversationWorkflowInput): Promise<ConversationResult> {
  const state = input.state ?? initialState(input);
  installHandlers(state);
  let acts = activitiesFor(state.policy);
  publish(state);
  try {
    let limited: boolean | undefined;
    if (state.policyPending) {
      limited = await adoptDeploymentPolicy(state, input.policyOverrides);
      // The activity timeouts follow the init timeout, which is the deployment's now.
      acts = activitiesFor(state.policy);
    }
    if (state.runtime.state === 'none') await bringUp(state, acts, 'start', limited);
    await serve(state, acts);
  } catch (error) {
    // continueAsNew works by throwing; it is a handover, not a failure.
    if (error instanceof ContinueAsNew) throw error;
    if (isCancellation(error)) {
      await teardown(state, acts, 'ARCHIVED');
      throw error;
    }
    if (isLimitReached(error) || isRefusedStart(error)) return rejected(state, error);
    const provisioningFailed = error instanceof ApplicationFailure && error.type === ConversationErrorType.ProvisioningFailed;
    if (!provisioningFailed) {
      state.lastError = describeFailure(error);
      await teardown(state, acts, 'ERROR');
    }
    throw error;
  }
  await releaseSlot(state);
  await condition(allHandlersFinished);
  return { info: toInfo(state), undelivered: state.queue.length, ...(state.closeAfterReply && { reply: state.reply ?? null }) };
}

/**
 * A sender waiting for its turn (`waitFor: 'turn'`) is a handler that finishes only once the
 * loop has delivered its message. Waiting for every handler before continuing as new then
 * waited forever (seen: a conversation holding two messages it never delivered). Since this
 * patch the loop continues as new at the first point where no handler runs, and serves
 * meanwhile; runs recorded before it replay the old way.
 */
const CONTINUE_AS_NEW_BESIDE_WAITING_SENDERS = 'continue-as-new-beside-waiting-senders';

/** Runs until the conversation is closed or archived; may continue as new instead. */
async function serve(state: ConversationState, acts: WorkflowActivities): Promise<void> {
  const recoveries = { count: 0 };
  for (;;) {
    if (state.requested.close) return closeConversation(state, acts);
    if (workflowInfo().continueAsNewSuggested && (allHandlersFinished() || !patched(CONTINUE_AS_NEW_BESIDE_WAITING_SENDERS))) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof conversationWorkflow>({ conversationId: state.conversationId, userId: state.userId, state });
    }
    if (state.requested.pause) {
      state.requested.pause = false;
      await pauseRuntime(state, acts);
      continue;
    }
    if (state.requested.resume) {
      state.requested.resume = false;
      if (state.runtime.state !== 'running') await bringUp(state, acts, 'resume');
      continue;
    }
    if (await serveSlot(state, acts)) continue;
    if (state.queue.length > 0) {
      await deliverNext(state, acts, recoveries);
      continue;
    }
    if (state.closeAfterReply) return closeConversation(state, acts);
    // Named so the timer reads as "idle" or "retention" in the Temporal UI's timeline.
    const summary = state.status === 'RUNNING' ? 'idle: pause the runtime' : 'retention: stop the runtime';
    const woke = await condition(() => hasWork(state), quietTimeLeft(state), { summary });
    if (woke) continue;
    if (state.status === 'RUNNING') {
      await pauseRuntime(state, acts);
      workflowMetrics.idlePaused();
    } else {
      await stopRuntime(state, acts);
      workflowMetrics.archived();
      return;
    }
  }
}

/** What the user's admission workflow asked for, at a quiet point (no turn runs, nothing queued); true if it did something. */
async function serveSlot(state: ConversationState, acts: WorkflowActivities): Promise<boolean> {
  if (evictionDue(state)) {
    if (state.runtime.state === 'running') await pauseRuntime(state, acts, TOO_MANY_CONVERSATIONS);
    else await releaseSlot(state);
    return true;
  }
  return reportQuiet(state);
}

const isRefusedStart = (error: unknown): error is ApplicationFailure => error instanceof ApplicationFailure && error.type === ConversationErrorType.PolicyOverrideRefused;

/** A rejected start (over the user's limit, or a refused override): nothing was provisioned, so there is nothing to tear down. */
async function rejected(state: ConversationState, error: ApplicationFailure): Promise<never> {
  state.status = 'ERROR';
  state.lastError = describeFailure(error);
  publish(state);
  // The admission update answers the starting client with the same failure.
  await condition(allHandlersFinished);
  throw error;
}

function hasWork(state: ConversationState): boolean {
  return state.queue.length > 0 || state.requested.pause || state.requested.resume || state.requested.close !== undefined || slotWorkPending(state);
}

/** The idle timer while running; the retention timer while paused. */
function quietTimeLeft(state: ConversationState): number {
  const now = Date.now();
  const left =
    state.status === 'RUNNING'
      ? state.policy.idleDelayMs - (now - state.lastActivityAt)
      : state.policy.retentionMs - (now - (state.runtime.pausedAt ?? now));
  return Math.max(1, left);
}

function initialState(input: ConversationWorkflowInput): ConversationState {
  const first = input.message;
  return {
    // Only runs started with these carry them, so earlier histories replay unchanged.
    ...(input.runtime && { shared: { binding: input.runtime } }),
    ...(input.closeAfterReply && { closeAfterReply: true }),
    conversationId: input.conversationId,
    userId: input.userId,
    ...initialPolicy(input.policy),
    status: 'STARTING',
    runtime: { state: 'none', replaced: 0 },
    queue: first ? [{ messageId: first.messageId, text: first.text, receivedAt: Date.now() }] : [],
    recentMessageIds: first ? [first.messageId] : [],
    received: first ? 1 : 0,
    delivered: 0,
    duplicates: 0,
    lastActivityAt: Date.now(),
    requested: { pause: false, resume: false },
    // A conversation on a shared runtime holds no runtime of its own, so no slot of its user's.
    admission: input.runtime ? undefined : initialHolding(),
  };
}
