// Many live idle conversations on one worker whose sticky cache holds only some of them:
// the worker's RSS as they come up, the first message to one out of the cache against one
// in it, and a message to a paused conversation (resume → delivered) less the runtime's own
// resume. Messages are timed send() → agent server recorded it (recorded.ts).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConversationClient } from '../../src/client.js';
import { provisionRuntimeMs, timeline, wallNow } from './history.js';
import type { RecordedMessages, Sent } from './recorded.js';
import { provision } from './signal-latency.js';
import { mapLimit } from './stats.js';
import type { WorkerHost } from './worker-host.js';

type Memory = Awaited<ReturnType<WorkerHost['memory']>>;

export interface ScaleMemory {
  readonly before: Memory;
  /** After the first `cacheSize` conversations (the cache is full) and after all of them. */
  readonly atCache: Memory;
  readonly atAll: Memory;
  readonly cacheSize: number;
  readonly count: number;
  readonly provisionMs: number;
  /** RSS as they came up, one reading per step. */
  readonly steps: ReadonlyArray<{ live: number; rss: number; seconds: number }>;
}

/** Brings up `count` idle conversations, the first `cacheSize` of them apart to read the cost of a cached one. */
export async function bringUpIdle(conversations: ConversationClient, worker: WorkerHost, count: number, cacheSize: number, prefix: string) {
  const [warm] = await provision(conversations, 1, `${prefix}-warm`);
  await conversations.close(warm!);
  await conversations.result(warm!);
  const before = await worker.memory();
  const began = wallNow();
  const steps: Array<{ live: number; rss: number; seconds: number }> = [];
  const ids: string[] = [];
  let atCache = before;
  // Steps of the cache's size (at most 1,000), each printed at once: a long run that is cut short still tells.
  const step = Math.max(1, Math.min(cacheSize, 1_000));
  for (let n = 0; ids.length < count; n++) {
    ids.push(...(await provision(conversations, Math.min(step, count - ids.length), `${prefix}-${n}`, 50)));
    await sleep(2_000); // the last completions and search-attribute upserts
    const memory = await worker.memory();
    if (ids.length <= cacheSize) atCache = memory;
    steps.push({ live: ids.length, rss: memory.rss, seconds: (wallNow() - began) / 1000 });
    console.log(`   ${ids.length} live: worker RSS ${(memory.rss / 2 ** 20).toFixed(1)} MB, ${((wallNow() - began) / 1000).toFixed(0)} s`);
  }
  const provisionMs = wallNow() - began;
  const atAll = await worker.memory();
  const memory: ScaleMemory = { before, atCache, atAll, cacheSize: Math.min(cacheSize, ids.length), count, provisionMs, steps };
  return { memory, ids };
}

/** Sends one message every `gapMs` to each conversation in turn; latencies in the same order. */
async function oneByOne(conversations: ConversationClient, ids: readonly string[], recorded: RecordedMessages, gapMs: number, tag: string) {
  const sent: Sent[] = [];
  for (const [i, conversationId] of ids.entries()) {
    if (i > 0) await sleep(gapMs);
    const text = `: ${tag} ${i}`;
    const sentAt = wallNow();
    await conversations.send(conversationId, { text, messageId: randomUUID() }, 'signal');
    sent.push({ conversationId, text, sentAt });
  }
  return { sent, latencies: await recorded.latencies(sent) };
}

/**
 * The first message to conversations that left the cache long ago (the oldest) and to ones
 * still in it (the newest), alternately, `gapMs` apart so that none waits on another.
 */
export async function firstMessages(conversations: ConversationClient, ids: readonly string[], samples: number, recorded: RecordedMessages, gapMs = 300) {
  const order = Array.from({ length: samples }, (_, i) => [ids[i]!, ids[ids.length - 1 - i]!]).flat();
  const { latencies } = await oneByOne(conversations, order, recorded, gapMs, 'first');
  return { uncached: latencies.filter((_, i) => i % 2 === 0), cached: latencies.filter((_, i) => i % 2 === 1) };
}

export interface ResumeSample {
  readonly totalMs: number;
  /** Workflow tasks and activities between the message's signal and its delivery, and their time queued. */
  readonly workflowTasks: number;
  readonly activities: string;
  readonly queuedMs: number;
  /**
   * What the runtime itself took: the ensureRuntime (POST /resume) and waitUntilAlive activities'
   * run times, or since the fewer-tasks patch the same two steps inside provisionRuntime.
   */
  readonly runtimeMs: number;
}

/** Pauses the conversations, waits until each is STOPPED, then sends each a message and times send → delivered. */
export async function resumes(conversations: ConversationClient, ids: readonly string[], recorded: RecordedMessages, gapMs = 500): Promise<ResumeSample[]> {
  await mapLimit(ids, 10, (id) => conversations.pause(id));
  await mapLimit(ids, 10, async (id) => {
    for (const deadline = Date.now() + 60_000; (await conversations.info(id)).status !== 'STOPPED'; await sleep(200)) {
      if (Date.now() > deadline) throw new Error(`${id} did not pause within 60 s`);
    }
  });
  await sleep(1_000);
  const { sent, latencies } = await oneByOne(conversations, ids, recorded, gapMs, 'resume');
  return mapLimit(sent, 10, async (s, i) => {
    const events = (await conversations.temporal.workflow.getHandle(s.conversationId).fetchHistory()).events ?? [];
    const t = timeline(events);
    const deliveredAt = s.sentAt + latencies[i]!;
    const after = t.activities.filter((a) => a.at >= s.sentAt && a.at <= deliveredAt);
    const tasks = t.workflowTasks.filter((w) => w.at >= s.sentAt && w.at <= deliveredAt);
    const runOf = (type: string) => after.find((a) => a.type === type)?.runMs ?? Number.NaN;
    return {
      totalMs: latencies[i]!,
      runtimeMs: after.some((a) => a.type === 'provisionRuntime')
        ? ((await provisionRuntimeMs(events, conversations.temporal.workflow.options.loadedDataConverter, s.sentAt))[0] ?? Number.NaN)
        : runOf('ensureRuntime') + runOf('waitUntilAlive'),
      workflowTasks: tasks.length,
      activities: after.map((a) => a.type).join(' → '),
      queuedMs: [...tasks, ...after].reduce((sum, x) => sum + x.queuedMs, 0),
    };
  });
}
