// The admission workflow's whole state, one plain-JSON object carried across
// continue-as-new: the slots held, the FIFO of conversations waiting for one, and
// counters for operators. Helpers here only read or edit that object.
import type { AdmissionSettings, SlotClaim, SlotRequest, UserAdmissionStatus } from './messages.js';

export interface Holder extends SlotClaim {
  readonly since: number;
  readonly seq: number;
  readonly grant: number;
  /** Asked to pause at its next quiet point; the slot is still its own until it releases. */
  evicting: boolean;
  /** Asked to say when it is quiet (every slot had a turn running when someone waited). */
  watched: boolean;
  /** Said it was quiet since it was last asked. */
  quiet: boolean;
}

export interface Waiter extends SlotClaim {
  readonly since: number;
  readonly seq: number;
  readonly purpose: SlotRequest['purpose'];
}

export interface AdmissionState {
  readonly userId: string;
  settings: AdmissionSettings;
  holders: Holder[];
  queue: Waiter[];
  /** Claims refused under `reject` (bounded), so the request waiting on its decision can tell. */
  refused: string[];
  /** The next check must describe every holder: a signal to one failed, or waiters arrived. */
  reconcileDue: boolean;
  counters: { requested: number; granted: number; evicted: number; rejected: number; reclaimed: number };
}

export const REFUSED_WINDOW = 200;

export function initialAdmissionState(userId: string, settings: AdmissionSettings): AdmissionState {
  return { userId, settings, holders: [], queue: [], refused: [], reconcileDue: false, counters: { requested: 0, granted: 0, evicted: 0, rejected: 0, reclaimed: 0 } };
}

export const claimKey = (claim: SlotClaim) => `${claim.conversationId}/${claim.chain}/${claim.ticket}`;
export const sameClaim = (a: SlotClaim, b: SlotClaim) => a.conversationId === b.conversationId && a.chain === b.chain && a.ticket === b.ticket;

export const holderOf = (state: AdmissionState, conversationId: string) => state.holders.find((h) => h.conversationId === conversationId);
export const waiterOf = (state: AdmissionState, conversationId: string) => state.queue.find((w) => w.conversationId === conversationId);
export const freeSlots = (state: AdmissionState) => state.settings.limit - state.holders.length;

/** Takes a slot for `claim` (the caller checked there is one). */
export function addHolder(state: AdmissionState, claim: SlotClaim & { seq: number }, now: number): Holder {
  const holder: Holder = { conversationId: claim.conversationId, chain: claim.chain, ticket: claim.ticket, seq: claim.seq, since: now, grant: ++state.counters.granted, evicting: false, watched: false, quiet: false };
  state.holders.push(holder);
  return holder;
}

/** Gives back the slot or the place in the queue of exactly this claim; an older ticket's late release changes nothing. */
export function release(state: AdmissionState, claim: SlotClaim): boolean {
  const before = state.holders.length + state.queue.length;
  state.holders = state.holders.filter((h) => !sameClaim(h, claim));
  state.queue = state.queue.filter((w) => !sameClaim(w, claim));
  return state.holders.length + state.queue.length !== before;
}

export function refuse(state: AdmissionState, waiter: Waiter): void {
  state.queue = state.queue.filter((w) => w !== waiter);
  state.refused.push(claimKey(waiter));
  if (state.refused.length > REFUSED_WINDOW) state.refused.splice(0, state.refused.length - REFUSED_WINDOW);
  state.counters.rejected++;
}

export function toStatus(state: AdmissionState): UserAdmissionStatus {
  return {
    userId: state.userId,
    limit: state.settings.limit,
    policy: state.settings.policy,
    held: state.holders.map((h) => ({ conversationId: h.conversationId, since: new Date(h.since).toISOString(), evicting: h.evicting })),
    queue: state.queue.map((w, i) => ({ conversationId: w.conversationId, position: i + 1, since: new Date(w.since).toISOString(), purpose: w.purpose })),
    ...state.counters,
  };
}
