// Part 3: the worker's resident memory with many live, idle conversations. The worker
// runs in a child process, so its RSS holds only the worker (workflow cache, activity
// clients); the sandboxes live in this process with the Runtime API.
import type { ConversationClient } from '../../src/client.js';
import { provision } from './signal-latency.js';
import type { WorkerHost } from './worker-host.js';
import { wallNow } from './history.js';

export interface MemoryResult {
  readonly count: number;
  readonly before: { rss: number; heapUsed: number };
  readonly after: { rss: number; heapUsed: number };
  readonly provisionMs: number;
}

export async function measureIdleMemory(conversations: ConversationClient, worker: WorkerHost, count: number, prefix: string): Promise<MemoryResult> {
  // Warm up first (workflow context, HTTP pools): the baseline is a worker that has run one.
  const [warm] = await provision(conversations, 1, `${prefix}-warm`);
  await conversations.close(warm!);
  await conversations.result(warm!);
  const before = await worker.memory();
  const began = wallNow();
  await provision(conversations, count, prefix, 50);
  const provisionMs = wallNow() - began;
  // Let in-flight completions and the last search-attribute upserts settle.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const after = await worker.memory();
  return { count, before, after, provisionMs };
}
