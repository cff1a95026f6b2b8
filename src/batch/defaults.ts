// Settings that hold at scale, derived from a batch's concurrency instead of left at
// defaults that fail at 128 at a time (as the seed user found). What the batch decides:
// the agent server's max_concurrent_runs on each shared runtime (its default 10 answers
// 429 beyond that), attempts per item and how often the workflow continues as new.
// What the deployment already sets for any concurrency: the agent-server read timeout
// (AGENT_SERVER_TIMEOUT, 600 s, for LLMs that answer after more than 60 s), no cap on
// connections per origin (HTTP_CONNECTIONS 0), and an open-file limit of 65536 in every
// local sandbox (process-sandbox.ts), so tmux sessions of many conversations fit.
import type { SharedRuntimeBinding } from '../workflows/shared-runtime/messages.js';

export const BATCH_DEFAULTS = {
  concurrency: 16,
  maxAttempts: 3,
  continueAsNewEvery: 2_000,
  userId: 'batch',
} as const;

export const MAX_BATCH_CONCURRENCY = 4_096;

/** The shared binding with a run limit of the whole concurrency: least-load spreading can briefly put more than an even share on one runtime. */
export function sharedBindingFor(pool: string, runtimes: number, concurrency: number): SharedRuntimeBinding {
  return { shared: pool, runtimes, maxConcurrentRuns: concurrency };
}
