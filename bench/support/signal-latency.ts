// Part 2: signal → delivered with many live, idle conversations. Each message is sent
// with ConversationClient.send(…, 'signal'); "delivered" is the moment the sandbox agent
// server recorded the user MessageEvent (its `timestamp`, read back afterwards — the
// sandboxes run in this process, so it is the same clock as the sender's).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConversationClient } from '../../src/client.js';
import { isMessageFrom, messageText } from '../../src/runtime-api/index.js';
import { timeline, wallNow } from './history.js';
import { mapLimit } from './stats.js';

export interface SignalSample {
  readonly latencyMs: number;
  readonly phases: Record<string, number>;
}

export const SIGNAL_PHASES = [
  'send() → signal recorded',
  'signal → workflow task started',
  'workflow task run',
  'deliverMessage queued',
  'deliverMessage start → message recorded',
];

/** A round sends one message to every conversation, one every `gapMs` (0: all at once). */
export interface Round {
  readonly kind: string;
  readonly gapMs: number;
}

interface Sent {
  readonly conversationId: string;
  readonly round: number;
  readonly text: string;
  readonly messageId: string;
  readonly sentAt: number;
}

/** Starts `count` conversations and waits until every one is provisioned (RUNNING, idle). */
export async function provision(conversations: ConversationClient, count: number, prefix: string, concurrency = 25): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await mapLimit(ids, concurrency, async (conversationId) => {
    await conversations.start({ conversationId, userId: 'bench' });
    await conversations.waitUntilReady(conversationId);
  });
  return ids;
}

/** Runs the rounds one after the other (each waits for the previous one's turns to end); samples by round kind. */
export async function measureSignals(conversations: ConversationClient, ids: readonly string[], rounds: readonly Round[]): Promise<Map<string, SignalSample[]>> {
  const sent: Sent[] = [];
  const send = async (round: number, i: number, conversationId: string) => {
    const message = { text: `: round ${round} message ${i}`, messageId: randomUUID() };
    const sentAt = wallNow();
    await conversations.send(conversationId, message, 'signal');
    const record = { conversationId, round, sentAt, ...message };
    sent.push(record);
    return record;
  };
  await sleep(SETTLE_MS);
  for (const [round, { gapMs }] of rounds.entries()) {
    const sends: Array<Promise<Sent>> = [];
    for (const [i, conversationId] of ids.entries()) {
      if (gapMs > 0 && i > 0) await sleep(gapMs);
      sends.push(send(round, i, conversationId));
    }
    await untilTurnsEnded(conversations, await Promise.all(sends));
    await sleep(SETTLE_MS); // every round starts from a quiet system

  }
  const samples = await mapLimit(ids, 10, (id) => samplesOf(conversations, id, sent.filter((s) => s.conversationId === id)));
  const byKind = new Map(rounds.map((r) => [r.kind, [] as SignalSample[]]));
  for (const sample of samples.flat()) byKind.get(rounds[sample.round]!.kind)!.push(sample);
  return byKind;
}

const SETTLE_MS = 500;

/** Waits for each message's turn to end (read from the histories, not by queries to the worker), so rounds never overlap. */
async function untilTurnsEnded(conversations: ConversationClient, sent: readonly Sent[], pollMs = 200, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = [...sent];
  while (pending.length > 0) {
    if (Date.now() > deadline) throw new Error(`${pending.length} turns did not end within ${timeoutMs} ms`);
    await sleep(pollMs);
    const done = await mapLimit(pending, 20, async (s) => {
      const t = timeline((await conversations.temporal.workflow.getHandle(s.conversationId).fetchHistory()).events ?? []);
      // The turn of the round's message is the (round + 1)-th awaitTurn; it has ended once a workflow task took its result.
      const turn = t.activities.filter((a) => a.type === 'awaitTurn')[s.round];
      return turn !== undefined && t.workflowTasks.some((w) => w.at >= turn.at + turn.queuedMs + turn.runMs);
    });
    pending = pending.filter((_, i) => !done[i]);
  }
}

async function samplesOf(conversations: ConversationClient, conversationId: string, sent: readonly Sent[]): Promise<Array<SignalSample & { round: number }>> {
  const events = await conversations.allEvents(conversationId);
  const t = timeline((await conversations.temporal.workflow.getHandle(conversationId).fetchHistory()).events ?? []);
  const deliveries = t.activities.filter((a) => a.type === 'deliverMessage');
  return [...sent]
    .sort((a, b) => a.round - b.round)
    .map((s, k) => {
      const recorded = events.find((e) => isMessageFrom(e, 'user') && messageText(e) === s.text);
      if (!recorded) throw new Error(`${conversationId}: message of round ${s.round} was not recorded by the agent server`);
      const recordedAt = Date.parse(recorded.timestamp);
      // The k-th signal, the workflow task that took it and the k-th delivery belong together.
      const signaledAt = t.signaledAt[k] ?? Number.NaN;
      const task = t.workflowTasks.find((w) => w.at >= signaledAt);
      const delivery = deliveries[k];
      const phases: Record<string, number> = {
        [SIGNAL_PHASES[0]!]: signaledAt - s.sentAt,
        [SIGNAL_PHASES[1]!]: task ? task.at + task.queuedMs - signaledAt : Number.NaN,
        [SIGNAL_PHASES[2]!]: task?.runMs ?? Number.NaN,
        [SIGNAL_PHASES[3]!]: delivery?.queuedMs ?? Number.NaN,
        [SIGNAL_PHASES[4]!]: delivery ? recordedAt - (delivery.at + delivery.queuedMs) : Number.NaN,
      };
      return { round: s.round, latencyMs: recordedAt - s.sentAt, phases };
    });
}
