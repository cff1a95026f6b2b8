// Every message between a conversation and the entity workflow that owns a shared
// runtime, with the types both sides share. One shared runtime has one owner: the
// workflow whose ID `sharedRuntimeWorkflowId` derives from its name and the task queue
// (the task queue names the deployment, whose Runtime API holds the runtime).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { InvalidInputError } from '../validation.js';

/** How a conversation is bound to a shared runtime: the pool's name and how many runtimes it has. */
export interface SharedRuntimeBinding {
  readonly shared: string;
  /** Runtimes in the pool; a conversation goes to the least loaded one. @default 1 */
  readonly runtimes?: number;
  /**
   * The agent server's max_concurrent_runs (OH_MAX_CONCURRENT_RUNS) for a runtime this binding
   * starts: a batch sets it from its concurrency, so turns are not refused (429) at the default 10.
   */
  readonly maxConcurrentRuns?: number;
}

export const MAX_POOL_RUNTIMES = 64;

/** The members of a pool: the pool's own name for a pool of one, else `<pool>-<i>`. */
export function poolMembers(binding: SharedRuntimeBinding): string[] {
  const size = binding.runtimes ?? 1;
  return size <= 1 ? [binding.shared] : Array.from({ length: size }, (_, i) => `${binding.shared}-${i}`);
}

export const sharedRuntimeWorkflowId = (taskQueue: string, member: string) => `shared-runtime-${member}-on-${taskQueue}`;
/** The Runtime API session of a shared runtime: never a conversation ID, so no conversation adopts it as its own. */
export const sharedSessionId = (member: string) => `shared-runtime-${member}`;

/** What the owner is told by the workers that start it. */
export interface SharedRuntimeSettings {
  /** Stop the runtime after it has had no conversation for this long. */
  readonly idleDelayMs: number;
  readonly initTimeoutMs: number;
  /** How long the runtime may see no attach or detach before the owner checks that its conversations still run. @default 60 s */
  readonly recheckUsersMs?: number;
  /** More of the runtime's environment, sent in POST /start (no secrets: it is in history). */
  readonly environment?: Readonly<Record<string, string>>;
}

export interface AttachRequest {
  readonly conversationId: string;
  /**
   * The runtime the conversation could no longer reach. Only the first report of a runtime
   * makes the owner look at it (and replace it if it is gone); later reports of the same
   * runtime get the replacement, so a lost runtime is replaced once for all its conversations.
   */
  readonly lostRuntimeId?: string;
}

/** Where the conversation's agent conversation lives; no key (activities look it up by session). */
export interface SharedRuntimeRef {
  readonly sessionId: string;
  readonly runtimeId: string;
  readonly url: string;
  /** Counts the runtimes this owner has provisioned. */
  readonly generation: number;
}

export interface DetachRequest {
  readonly conversationId: string;
}

export interface SharedRuntimeStatus {
  readonly name: string;
  readonly sessionId: string;
  readonly runtimeState: 'none' | 'starting' | 'running' | 'stopped' | 'error';
  readonly runtimeId?: string;
  /** Set while it runs: where conversations reach it (no key: activities look that up). */
  readonly url?: string;
  readonly generation: number;
  readonly users: number;
  readonly attached: number;
  readonly detached: number;
  readonly replaced: number;
  readonly lastError?: string;
}

export const attachUpdate = defineUpdate<SharedRuntimeRef, [AttachRequest]>('attach');
export const detachSignal = defineSignal<[DetachRequest]>('detach');
/**
 * Attach to a runtime known to run (the caller read it from the status query): a signal,
 * not an update, because a workflow takes only a few updates in flight and a bounded
 * number per run, and a batch attaches hundreds of conversations a minute.
 */
export const attachSignal = defineSignal<[DetachRequest]>('attach');
export const sharedRuntimeStatusQuery = defineQuery<SharedRuntimeStatus>('sharedRuntimeStatus');

const POOL_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Plain rules (this file runs in the workflow sandbox too); throws InvalidInputError naming the field. */
export function validateSharedRuntimeBinding(binding: unknown): SharedRuntimeBinding {
  const { shared, runtimes } = (binding ?? {}) as { shared?: unknown; runtimes?: unknown };
  if (typeof shared !== 'string' || !POOL_NAME_PATTERN.test(shared)) {
    throw new InvalidInputError('runtime.shared', `invalid shared runtime name ${JSON.stringify(shared)}: use 1-64 characters of letters, digits, '.', '_' or '-'`);
  }
  if (runtimes !== undefined && (!Number.isInteger(runtimes) || (runtimes as number) < 1 || (runtimes as number) > MAX_POOL_RUNTIMES)) {
    throw new InvalidInputError('runtime.runtimes', `invalid number of shared runtimes ${JSON.stringify(runtimes)}: use a whole number from 1 to ${MAX_POOL_RUNTIMES}`);
  }
  const { maxConcurrentRuns } = binding as { maxConcurrentRuns?: unknown };
  if (maxConcurrentRuns !== undefined && (!Number.isInteger(maxConcurrentRuns) || (maxConcurrentRuns as number) < 1 || (maxConcurrentRuns as number) > 10_000)) {
    throw new InvalidInputError('runtime.maxConcurrentRuns', `invalid maxConcurrentRuns ${JSON.stringify(maxConcurrentRuns)}: use a whole number from 1 to 10000`);
  }
  return { shared, ...(runtimes !== undefined && { runtimes: runtimes as number }), ...(maxConcurrentRuns !== undefined && { maxConcurrentRuns: maxConcurrentRuns as number }) };
}
