// What the admission workflow's main loop does when the queue or the holders changed:
// check the holders when it matters (reclaiming the slots of conversations that ended
// without giving them back), hand free slots to the queue in order, refuse what
// `reject` refuses, and under `evict` ask holders to make room.
import { getExternalWorkflowHandle, log, proxyActivities } from '@temporalio/workflow';
import type { HolderReport } from '../../activities/admission.js';
import type { ConversationActivities } from '../../activities/index.js';
import { evictSignal, notifyWhenQuietSignal, slotGrantedSignal } from './messages.js';
import { rejectable } from './handlers.js';
import { addHolder, freeSlots, refuse, sameClaim } from './state.js';
import type { AdmissionState, Holder } from './state.js';

const { checkSlotHolders } = proxyActivities<ConversationActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '5s' },
});

export async function serveQueue(state: AdmissionState): Promise<void> {
  if (state.queue.length === 0) {
    // A quiet notice is news only while someone waits; later the holder may be busy again.
    for (const holder of state.holders) holder.quiet = false;
    return;
  }
  if (freeSlots(state) <= 0 && state.reconcileDue) await reconcile(state, false);
  await grantFreeSlots(state);
  for (const waiter of [...state.queue]) if (rejectable(state, waiter)) refuse(state, waiter);
  if (state.settings.policy === 'evict') await makeRoom(state);
  // Checking the holders may have reclaimed slots.
  await grantFreeSlots(state);
}

/**
 * Describes every holder and gives back the slots of those whose workflow has ended;
 * with `activity`, also reads whether each has a turn running (what eviction needs, and
 * slower: a query waits for a worker to answer).
 */
async function reconcile(state: AdmissionState, activity: boolean): Promise<HolderReport[]> {
  state.reconcileDue = false;
  const asked = state.holders.map((h) => ({ conversationId: h.conversationId, chain: h.chain, ticket: h.ticket }));
  const reports = await checkSlotHolders({ holders: asked, activity });
  for (const report of reports) {
    if (report.open) continue;
    const claim = asked.find((c) => c.conversationId === report.conversationId);
    // Only the entry that was checked: a reopened conversation may have claimed it anew meanwhile.
    const before = state.holders.length;
    state.holders = state.holders.filter((h) => !(claim && sameClaim(h, claim)));
    if (state.holders.length < before) {
      state.counters.reclaimed++;
      log.info('reclaimed the slot of a conversation that ended without giving it back', { conversationId: report.conversationId });
    }
  }
  return reports;
}

async function grantFreeSlots(state: AdmissionState): Promise<void> {
  const grants: Array<Promise<void>> = [];
  while (freeSlots(state) > 0 && state.queue.length > 0) {
    const waiter = state.queue.shift() as NonNullable<(typeof state.queue)[number]>;
    const holder = addHolder(state, waiter, Date.now());
    // Under evict, a slot handed on while others still wait goes to a conversation that is
    // about to run a turn: it says when it is done, so the slot can move on again.
    holder.watched = state.settings.policy === 'evict' && state.queue.length > 0;
    grants.push(tell(state, holder, () => getExternalWorkflowHandle(holder.conversationId).signal(slotGrantedSignal, { ticket: holder.ticket, grant: holder.grant, notifyWhenQuiet: holder.watched })));
  }
  await Promise.all(grants);
}

/**
 * One eviction per waiter: first holders that said they are quiet, then the least
 * recently active holder with no turn running; when every holder is busy, each is asked
 * to say when its turn ends, and the first to end is evicted.
 */
async function makeRoom(state: AdmissionState): Promise<void> {
  let needed = stillNeeded(state);
  const evictions: Array<Promise<void>> = [];
  for (const holder of state.holders.filter((h) => h.quiet && !h.evicting)) {
    holder.quiet = false;
    if (needed-- > 0) evictions.push(evict(state, holder));
  }
  const unknown = state.holders.filter((h) => !h.evicting && !h.watched);
  if (needed > 0 && unknown.length > 0) {
    const reports = await reconcile(state, true);
    // Holders may have released (and waiters joined) while the check ran: count again, or a slot
    // already free would be made a second time.
    needed = Math.min(needed, stillNeeded(state));
    const byConversation = new Map(reports.map((r) => [r.conversationId, r]));
    // A holder the check reclaimed (its workflow ended) is gone from the holders, not idle.
    const idle = unknown.filter((h) => state.holders.includes(h) && byConversation.get(h.conversationId)?.busy === false);
    idle.sort((a, b) => (byConversation.get(a.conversationId)?.lastActivityAt ?? 0) - (byConversation.get(b.conversationId)?.lastActivityAt ?? 0));
    for (const holder of idle.slice(0, needed)) evictions.push(evict(state, holder));
    needed -= Math.min(needed, idle.length);
    if (needed > 0) {
      for (const holder of unknown.filter((h) => !idle.includes(h) && state.holders.includes(h))) {
        holder.watched = true;
        evictions.push(tell(state, holder, () => getExternalWorkflowHandle(holder.conversationId).signal(notifyWhenQuietSignal, { ticket: holder.ticket })));
      }
    }
  }
  await Promise.all(evictions);
}

/** Waiters that neither a free slot nor an eviction under way will serve. */
function stillNeeded(state: AdmissionState): number {
  return state.queue.length - Math.max(0, freeSlots(state)) - state.holders.filter((h) => h.evicting).length;
}

function evict(state: AdmissionState, holder: Holder): Promise<void> {
  holder.evicting = true;
  state.counters.evicted++;
  return tell(state, holder, () => getExternalWorkflowHandle(holder.conversationId).signal(evictSignal, { ticket: holder.ticket }));
}

/** A signal that cannot reach the holder means its workflow has ended: the next pass checks every holder. */
async function tell(state: AdmissionState, holder: Holder, send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (error) {
    log.warn('could not reach a slot holder; checking the holders', { conversationId: holder.conversationId, error: String(error) });
    state.reconcileDue = true;
  }
}
