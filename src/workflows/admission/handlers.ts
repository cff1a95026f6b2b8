// The admission workflow's handlers. A request is answered at once when it can be
// (a repeated claim, a free slot with nobody queued, or a place in the queue); only a
// start under `reject` waits, because refusing a start is final and must first make
// sure no slot is held by a conversation that has already ended (the main loop checks).
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { ConversationErrorType } from '../../failure-types.js';
import { InvalidInputError, validateConversationId } from '../validation.js';
import { ADMISSION_POLICIES, admissionStatusQuery, conversationQuietSignal, releaseSlotSignal, requestSlotUpdate } from './messages.js';
import type { SlotAnswer, SlotRequest } from './messages.js';
import { addHolder, claimKey, freeSlots, holderOf, release, sameClaim, toStatus, waiterOf } from './state.js';
import type { AdmissionState } from './state.js';

/** `wake` tells the main loop that the queue or the holders changed. */
export function installAdmissionHandlers(state: AdmissionState, wake: () => void): void {
  setHandler(requestSlotUpdate, (request) => requestSlot(state, request, wake), {
    validator: validateRequest,
    description: 'Ask for a slot: granted now, a place in the queue (a slotGranted signal follows), or ConversationLimitError under reject.',
  });
  setHandler(releaseSlotSignal, (claim) => {
    if (release(state, claim)) wake();
  });
  setHandler(conversationQuietSignal, (claim) => {
    const holder = holderOf(state, claim.conversationId);
    if (!holder || !sameClaim(holder, claim)) return;
    holder.quiet = true;
    holder.watched = false;
    wake();
  });
  setHandler(admissionStatusQuery, () => toStatus(state));
}

async function requestSlot(state: AdmissionState, request: SlotRequest, wake: () => void): Promise<SlotAnswer> {
  if (request.settings.limit !== state.settings.limit || request.settings.policy !== state.settings.policy) {
    // The workers' configuration changed: a higher limit may let waiters in now.
    state.settings = request.settings;
    wake();
  }
  const claim = { conversationId: request.conversationId, chain: request.chain, ticket: request.ticket };
  const holder = holderOf(state, claim.conversationId);
  if (holder) {
    // The conversation asks again before its release arrived (signals and updates can
    // cross), or a reopened conversation's new run asks while the old run's entry stands:
    // one conversation, one runtime, one slot. The entry moves to the newer claim.
    if (claim.chain !== holder.chain || claim.ticket > holder.ticket) Object.assign(holder, { ...claim, evicting: false, watched: false, quiet: false });
    return { kind: 'granted', grant: holder.grant, seq: holder.seq };
  }
  if (state.refused.includes(claimKey(claim))) throw limitReached(state);
  const waiter = waiterOf(state, claim.conversationId);
  if (waiter) {
    if (claim.chain !== waiter.chain || claim.ticket > waiter.ticket) Object.assign(waiter, claim);
  } else if (freeSlots(state) > 0 && state.queue.length === 0) {
    const holder = addHolder(state, { ...claim, seq: ++state.counters.requested }, Date.now());
    return { kind: 'granted', grant: holder.grant, seq: holder.seq };
  } else {
    state.queue.push({ ...claim, seq: ++state.counters.requested, since: Date.now(), purpose: request.purpose });
    state.reconcileDue = true;
    wake();
  }
  if (!rejectable(state, request)) {
    const position = state.queue.findIndex((w) => w.conversationId === claim.conversationId);
    return { kind: 'waiting', position: position + 1, policy: state.settings.policy, seq: state.queue[position]?.seq ?? 0 };
  }
  await condition(() => waiterOf(state, claim.conversationId) === undefined || state.refused.includes(claimKey(claim)));
  const granted = holderOf(state, claim.conversationId);
  if (granted && sameClaim(granted, claim)) return { kind: 'granted', grant: granted.grant, seq: granted.seq };
  throw limitReached(state);
}

function limitReached(state: AdmissionState): ApplicationFailure {
  return ApplicationFailure.create({
    type: ConversationErrorType.LimitReached,
    message: `user ${state.userId} already has ${state.settings.limit} running conversations, the limit (policy reject)`,
    nonRetryable: true,
    details: [{ limit: state.settings.limit, userId: state.userId }],
  });
}

export function rejectable(state: AdmissionState, request: Pick<SlotRequest, 'purpose'>): boolean {
  // A resume carries an acknowledged message: it waits instead, so the message is never dropped.
  return state.settings.policy === 'reject' && request.purpose === 'start';
}

/** Synchronous and before history: a malformed request is refused with no trace. */
function validateRequest(request: SlotRequest): void {
  try {
    validateConversationId(request?.conversationId);
    if (typeof request.chain !== 'string' || request.chain === '') throw new InvalidInputError('chain', 'a slot request needs the conversation run chain');
    if (!Number.isInteger(request.ticket) || request.ticket < 1) throw new InvalidInputError('ticket', 'a slot request needs a positive ticket');
    if (request.purpose !== 'start' && request.purpose !== 'resume') throw new InvalidInputError('purpose', "purpose must be 'start' or 'resume'");
    const { limit, policy } = request.settings ?? {};
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidInputError('settings', 'a limit must be a whole number from 1');
    if (!ADMISSION_POLICIES.includes(policy)) throw new InvalidInputError('settings', `policy must be one of ${ADMISSION_POLICIES.join(', ')}`);
  } catch (error) {
    if (error instanceof InvalidInputError) throw ApplicationFailure.nonRetryable(error.message, ConversationErrorType.InvalidInput, error.field);
    throw error;
  }
}
