// The conversation's side of admission: before a runtime is provisioned or resumed the
// conversation holds a slot of its user's, and it gives the slot back as soon as the
// runtime is paused or stopped. Runs that began before admission existed carry no
// `admission` state and issue none of these commands, so their histories replay as recorded.
import { ApplicationFailure, condition, getExternalWorkflowHandle, log, patched, proxyActivities, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ConversationActivities } from '../../activities/index.js';
import { ConversationErrorType } from '../../failure-types.js';
import { fewerTasksToProvision } from '../fewer-tasks.js';
import type { ConversationState, SlotHolding } from '../state.js';
import { conversationQuietSignal, evictSignal, legacyAdmissionWorkflowId, notifyWhenQuietSignal, releaseSlotSignal, slotGrantedSignal } from './messages.js';
import type { SlotClaim, SlotRequest } from './messages.js';

/** The patch that brought admission in; see `initialHolding`. */
export const ADMISSION_PATCH = 'per-user-admission';

// A regular activity, not a local one: a local activity holds its workflow task slot while it
// runs, and a burst of starts waiting on the admission workflow held every slot, so the
// admission workflow's own task could not run (seen: 150 starts on two workers stalled).
const { requestSlot } = proxyActivities<ConversationActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '5s', nonRetryableErrorTypes: [ConversationErrorType.LimitReached] },
});

// Local: it only reads the worker's settings, so it runs inside the workflow task that asks.
const { admissionLimited } = proxyLocalActivities<ConversationActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '2s' },
});

/** Admission for a new run; a run continued from one without admission stays without, as it began. */
export function initialHolding(): SlotHolding | undefined {
  return patched(ADMISSION_PATCH) ? { ticket: 0, phase: 'requesting', evict: false, notifyWhenQuiet: false } : undefined;
}

export function installSlotHandlers(state: ConversationState): void {
  setHandler(slotGrantedSignal, (grant) => {
    const holding = state.admission;
    if (!holding || holding.ticket !== grant.ticket || holding.phase === 'idle') return;
    Object.assign(holding, { phase: 'held', position: undefined, grant: grant.grant, notifyWhenQuiet: grant.notifyWhenQuiet });
  });
  setHandler(evictSignal, ({ ticket }) => {
    if (holds(state, ticket)) (state.admission as SlotHolding).evict = true;
  });
  setHandler(notifyWhenQuietSignal, ({ ticket }) => {
    if (holds(state, ticket)) (state.admission as SlotHolding).notifyWhenQuiet = true;
  });
}

/**
 * Whether the slot of this ticket is ours. The admission workflow writes only to holders, so
 * a request still waiting for its answer holds it too: the answer can arrive after these
 * signals (seen under load), and dropping them left a holder that never made room.
 */
function holds(state: ConversationState, ticket: number): boolean {
  const holding = state.admission;
  return holding !== undefined && holding.ticket === ticket && (holding.phase === 'held' || holding.phase === 'requesting');
}

/**
 * Holds a slot on return, or returns false when the conversation was asked to close while
 * it waited. Throws the ConversationLimitError failure when a start is rejected. `limited`:
 * the answer of the run's start settings (start-settings.ts), which spares asking again.
 */
export async function acquireSlot(state: ConversationState, purpose: SlotRequest['purpose'], limited?: boolean): Promise<boolean> {
  const holding = state.admission;
  if (!holding || holding.phase === 'held' || holding.phase === 'unlimited') return true;
  if (fewerTasksToProvision() && !(limited ?? (await admissionLimited({ userId: state.userId })).limited)) {
    // The admission workflow answers "unlimited" to such a user too, at the cost of a round trip.
    Object.assign(holding, { phase: 'unlimited', evict: false, notifyWhenQuiet: false });
    return true;
  }
  holding.ticket++;
  Object.assign(holding, { phase: 'requesting', evict: false, notifyWhenQuiet: false, requestedAt: Date.now() });
  let answer;
  try {
    answer = await requestSlot({ userId: state.userId, claim: claimOf(state, holding), purpose });
  } catch (error) {
    const limit = (error as { cause?: ApplicationFailure }).cause;
    if (limit instanceof ApplicationFailure && limit.type === ConversationErrorType.LimitReached) {
      const limitDetails = limit.details?.[0] as { limit?: number } | undefined;
      Object.assign(holding, { phase: 'rejected', rejection: { message: limit.message, limit: limitDetails?.limit ?? 0 } });
      throw limitFailure(holding);
    }
    throw error;
  }
  if (answer.kind !== 'unlimited') Object.assign(holding, { seq: answer.seq, admissionWorkflowId: answer.admissionWorkflowId });
  // A grant signal (its handler runs during the await) can overtake the answer that said "wait".
  if ((holding.phase as SlotHolding['phase']) === 'held') return true;
  if (answer.kind === 'unlimited') holding.phase = 'unlimited';
  if (answer.kind === 'granted') Object.assign(holding, { phase: 'held', grant: answer.grant });
  if (answer.kind !== 'waiting') return true;
  Object.assign(holding, { phase: 'waiting', position: answer.position, policy: answer.policy, seq: answer.seq });
  return waitForGrant(state, holding);
}

async function waitForGrant(state: ConversationState, holding: SlotHolding): Promise<boolean> {
  await condition(() => holding.phase === 'held' || state.requested.close !== undefined);
  if (holding.phase === 'held') return true;
  await releaseSlot(state);
  return false;
}

/** Gives back the slot, or the place in the queue; a no-op when nothing is held. */
export async function releaseSlot(state: ConversationState): Promise<void> {
  const holding = state.admission;
  if (!holding || holding.phase === 'idle' || holding.phase === 'rejected') return;
  const sent = holding.phase !== 'unlimited';
  Object.assign(holding, { phase: 'idle', position: undefined, evict: false, notifyWhenQuiet: false });
  if (sent) await tellAdmission(state, releaseSlotSignal, claimOf(state, holding));
}

/** Tells the admission workflow this conversation is quiet, if it asked; true if it did. */
export async function reportQuiet(state: ConversationState): Promise<boolean> {
  const holding = state.admission;
  if (!holding?.notifyWhenQuiet || state.queue.length > 0) return false;
  holding.notifyWhenQuiet = false;
  await tellAdmission(state, conversationQuietSignal, claimOf(state, holding));
  return true;
}

/** Asked to make room, and nothing is queued: the turn (if any) has ended. */
export const evictionDue = (state: ConversationState) => state.admission?.evict === true && state.queue.length === 0;

export const slotWorkPending = (state: ConversationState) => (state.admission?.evict || state.admission?.notifyWhenQuiet) === true;

function claimOf(state: ConversationState, holding: SlotHolding): SlotClaim {
  return { conversationId: state.conversationId, chain: workflowInfo().firstExecutionRunId, ticket: holding.ticket };
}

async function tellAdmission(state: ConversationState, signal: typeof releaseSlotSignal, claim: SlotClaim): Promise<void> {
  try {
    await getExternalWorkflowHandle(state.admission?.admissionWorkflowId ?? legacyAdmissionWorkflowId(state.userId)).signal(signal, claim);
  } catch (error) {
    // Its admission workflow does not run (never started, or ended): no slot to give back there.
    log.warn('could not reach the admission workflow', { userId: state.userId, error: String(error) });
  }
}

/** The failure a rejected start ends with, and the admission update answers with. */
export function limitFailure(holding: SlotHolding): ApplicationFailure {
  return ApplicationFailure.create({
    type: ConversationErrorType.LimitReached,
    message: holding.rejection?.message ?? 'the concurrent-conversation limit is reached',
    nonRetryable: true,
    details: [{ limit: holding.rejection?.limit ?? 0 }],
  });
}

export const isLimitReached = (error: unknown): error is ApplicationFailure => error instanceof ApplicationFailure && error.type === ConversationErrorType.LimitReached;
