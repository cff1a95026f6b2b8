// Messages/s and signal → delivered for one kind of workflow, measured the same way for
// the ceiling (ceiling-workflow.ts: one signal, one no-op activity) and for conversations:
// a burst sends one message to every live workflow, as fast as SEND_CONCURRENCY signals
// in flight allow; a paced run sends one message every `gapMs`.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConversationClient } from '../../src/client.js';
import { pingSignal } from './ceiling-workflow.js';
import { wallNow } from './history.js';
import type { RecordedMessages, Sent } from './recorded.js';
import { buildBenchWorkflowBundle } from './setup.js';
import type { Lane } from './setup.js';
import { mapLimit } from './stats.js';

const SEND_CONCURRENCY = 32;

/** Where messages go and how their delivery is seen. */
export interface MessageTarget {
  readonly ids: readonly string[];
  send(id: string, text: string): Promise<void>;
  /** Waits until every message is delivered; send → delivered latencies (ms), in `sent`'s order. */
  latencies(sent: readonly Sent[]): Promise<number[]>;
}

export interface RateResult {
  readonly messages: number;
  readonly perSecond: number;
  readonly latencies: number[];
}

export async function burst(target: MessageTarget, tag: string): Promise<RateResult> {
  const sent = await mapLimit(target.ids, SEND_CONCURRENCY, (id, i) => sendOne(target, id, `: ${tag} ${i}`));
  return rateOf(sent, await target.latencies(sent));
}

export async function paced(target: MessageTarget, tag: string, count: number, gapMs: number): Promise<RateResult> {
  const sends: Array<Promise<Sent>> = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await sleep(gapMs);
    sends.push(sendOne(target, target.ids[i % target.ids.length]!, `: ${tag} ${i}`));
  }
  const sent = await Promise.all(sends);
  return rateOf(sent, await target.latencies(sent));
}

async function sendOne(target: MessageTarget, conversationId: string, text: string): Promise<Sent> {
  const sentAt = wallNow();
  await target.send(conversationId, text);
  return { conversationId, text, sentAt };
}

function rateOf(sent: readonly Sent[], latencies: number[]): RateResult {
  const first = Math.min(...sent.map((s) => s.sentAt));
  const last = Math.max(...sent.map((s, i) => s.sentAt + latencies[i]!));
  return { messages: sent.length, perSecond: (sent.length * 1000) / (last - first), latencies };
}

export function conversationTarget(conversations: ConversationClient, ids: readonly string[], recorded: RecordedMessages): MessageTarget {
  return {
    ids,
    send: async (id, text) => void (await conversations.send(id, { text, messageId: randomUUID() }, 'signal')),
    latencies: (sent) => recorded.latencies(sent),
  };
}

/** `count` ceiling workflows, started on the lane's task queue (its worker must be a ceiling worker). */
export async function ceilingTarget(lane: Lane, count: number, prefix: string): Promise<MessageTarget & { stop(): Promise<void> }> {
  const client = lane.conversations.temporal;
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await mapLimit(ids, 50, (workflowId) => client.workflow.start('ceilingWorkflow', { workflowId, taskQueue: lane.worker.taskQueue }));
  return {
    ids,
    send: (id, text) => client.workflow.getHandle(id).signal(pingSignal, { messageId: text }),
    latencies: async (sent) => {
      for (const deadline = Date.now() + 300_000; Date.now() < deadline; await sleep(500)) {
        const delivered = await lane.worker.deliveries();
        if (sent.every((s) => delivered[s.text] !== undefined)) return sent.map((s) => delivered[s.text]! - s.sentAt);
      }
      throw new Error('ceiling messages were not delivered within 300 s');
    },
    stop: async () => void (await mapLimit(ids, 50, (id) => client.workflow.getHandle(id).signal('stop'))),
  };
}

export const buildCeilingBundle = (dir: string): Promise<string> => buildBenchWorkflowBundle(dir, 'ceiling-workflow.ts');
