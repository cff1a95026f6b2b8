// Batch items as agent turns (item mode `turn`): on a shared runtime an item needs no
// conversation workflow of its own. The batch attaches itself to each runtime of its pool
// once per run, as one user that keeps the runtime up until the batch ends, and runs each
// item as one activity (activities/batch-turns.ts) on the least busy runtime. A runtime
// that is lost is reported to its owner once, by the first item that finds it gone; the
// items in flight on it then retry on the replacement. Finished items' agent
// conversations are deleted in groups as results are written, so the runtime holds no
// more of them than the batch has in flight and unwritten.
import { getExternalWorkflowHandle, log, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { ConversationActivities } from '../../activities/index.js';
import { ConversationErrorType, NON_RETRYABLE_ERROR_TYPES, RUNTIME_ERROR_TYPES, RUNTIME_TROUBLE_TYPES } from '../../failure-types.js';
import { detachSignal, poolMembers, sharedRuntimeWorkflowId } from '../shared-runtime/messages.js';
import type { SharedRuntimeBinding, SharedRuntimeRef } from '../shared-runtime/messages.js';
import { REPLY_MAX_BYTES } from '../state.js';
import { describeFailure } from '../status.js';
import { RETRY_BACKOFF_MS } from './item.js';
import { batchWorkflowId, itemConversationId } from './messages.js';
import type { BatchSettings, ItemResult } from './messages.js';

// Attaching waits while the owner provisions the runtime (its init timeout, 3 minutes by default).
const attaching = proxyActivities<ConversationActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '5s', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
});
// A turn may last as long as a slow LLM takes; a dead worker is noticed by the heartbeat. Runtime
// trouble is not retried here: the batch reports the runtime lost first, then tries again.
const turns = proxyActivities<ConversationActivities>({
  startToCloseTimeout: '24h',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '5s', maximumAttempts: 10, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, ...RUNTIME_TROUBLE_TYPES] },
});
// Deleting is best effort: a runtime that is gone holds nothing.
const sweeping = proxyActivities<ConversationActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '500ms', maximumInterval: '10s', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, ...RUNTIME_TROUBLE_TYPES] },
});

interface Finished {
  readonly member: string;
  readonly runtimeId: string;
  readonly itemId: string;
}

export class TurnItems {
  readonly #settings: BatchSettings;
  readonly #binding: SharedRuntimeBinding;
  readonly #refs = new Map<string, SharedRuntimeRef>();
  readonly #inFlight = new Map<string, number>();
  readonly #replacing = new Map<string, Promise<void>>();
  /** Settled attempts whose agent conversations are still to delete. */
  #finished: Finished[] = [];

  constructor(settings: BatchSettings) {
    if (!settings.runtime) throw new Error('turn items need a shared runtime');
    this.#settings = settings;
    this.#binding = settings.runtime;
  }

  /** The batch, as one user of each runtime of its pool; returns once every runtime runs. */
  async attach(): Promise<void> {
    const members = poolMembers(this.#binding);
    const refs = await Promise.all(members.map((member) => attaching.attachSharedRuntime({ member, conversationId: this.#user, maxConcurrentRuns: this.#binding.maxConcurrentRuns })));
    members.forEach((member, i) => {
      this.#refs.set(member, refs[i] as SharedRuntimeRef);
      this.#inFlight.set(member, 0);
    });
  }

  /** Runs the item's prompt as one turn, again as a new agent conversation after a failure, up to maxAttempts; never throws but for cancellation. */
  async run(index: number, prompt: string, onRetry: () => void): Promise<ItemResult> {
    const startedAt = Date.now();
    const member = this.#leastBusy();
    this.#inFlight.set(member, (this.#inFlight.get(member) ?? 0) + 1);
    let error = 'not run';
    let attempts = 0;
    try {
      for (let attempt = 1; attempt <= this.#settings.maxAttempts; attempt++) {
        attempts = attempt;
        if (attempt > 1) {
          onRetry();
          await sleep(RETRY_BACKOFF_MS * (attempt - 1));
        }
        const itemId = itemConversationId(this.#settings.batchId, index, attempt);
        const runtime = this.#refs.get(member) as SharedRuntimeRef;
        try {
          const outcome = await turns.runBatchTurn({ runtime: { sessionId: runtime.sessionId, runtimeId: runtime.runtimeId, url: runtime.url }, itemId, prompt, replyMaxBytes: REPLY_MAX_BYTES });
          if (outcome.executionStatus === 'finished') {
            return { index, conversationId: itemId, status: 'succeeded', reply: outcome.reply ?? null, attempts: attempt, durationMs: Date.now() - startedAt };
          }
          error = `the agent's turn ended ${outcome.executionStatus}`;
        } catch (failure) {
          const described = describeFailure(failure);
          // Worded as a conversation item's failure is, so results read the same in either mode.
          error = described.type === RUNTIME_ERROR_TYPES.BadRequestError ? `refused by the agent server: ${described.message}` : `${described.type}: ${described.message}`;
          if (RUNTIME_TROUBLE_TYPES.includes(described.type)) await this.#replace(member, runtime.runtimeId);
          // The deployment refuses the prompt itself (over its message limit): another attempt would be refused the same.
          if (described.type === ConversationErrorType.InvalidInput) {
            error = described.message;
            break;
          }
        } finally {
          // Only once the attempt has settled: an agent conversation still in use is never deleted.
          this.#finished.push({ member, runtimeId: runtime.runtimeId, itemId });
        }
      }
      return { index, conversationId: itemConversationId(this.#settings.batchId, index, attempts), status: 'failed', reply: null, error, attempts, durationMs: Date.now() - startedAt };
    } finally {
      this.#inFlight.set(member, (this.#inFlight.get(member) ?? 1) - 1);
    }
  }

  /** Deletes the agent conversations of settled attempts on runtimes still in use (a replaced runtime took its own with it). */
  async sweep(): Promise<void> {
    const finished = this.#finished;
    if (finished.length === 0) return;
    this.#finished = [];
    for (const [member, runtime] of this.#refs) {
      const itemIds = finished.filter((f) => f.member === member && f.runtimeId === runtime.runtimeId).map((f) => f.itemId);
      if (itemIds.length === 0) continue;
      try {
        await sweeping.deleteBatchTurns({ runtime: { sessionId: runtime.sessionId, runtimeId: runtime.runtimeId, url: runtime.url }, itemIds });
      } catch (failure) {
        log.warn('could not delete finished batch items on their shared runtime', { member, items: itemIds.length, error: describeFailure(failure).message });
      }
    }
  }

  /** Lets the owners stop their runtimes once their idle delay has passed. */
  async detach(): Promise<void> {
    for (const member of this.#refs.keys()) {
      try {
        await getExternalWorkflowHandle(sharedRuntimeWorkflowId(workflowInfo().taskQueue, member)).signal(detachSignal, { conversationId: this.#user });
      } catch (error) {
        log.info('shared runtime owner not running; nothing to detach from', { member, error: String(error) });
      }
    }
  }

  get #user(): string {
    return batchWorkflowId(this.#settings.batchId);
  }

  #leastBusy(): string {
    let best: string | undefined;
    for (const [member, count] of this.#inFlight) if (best === undefined || count < (this.#inFlight.get(best) ?? 0)) best = member;
    return best as string;
  }

  /** One report per lost runtime: items that find it gone later wait for the same replacement. */
  async #replace(member: string, lostRuntimeId: string): Promise<void> {
    if (this.#refs.get(member)?.runtimeId !== lostRuntimeId) return;
    let replacing = this.#replacing.get(member);
    if (!replacing) {
      replacing = attaching
        .attachSharedRuntime({ member, conversationId: this.#user, lostRuntimeId, maxConcurrentRuns: this.#binding.maxConcurrentRuns })
        .then((ref) => void this.#refs.set(member, ref))
        .catch((failure) => log.warn('shared runtime could not be replaced', { member, error: describeFailure(failure).message }))
        .finally(() => this.#replacing.delete(member));
      this.#replacing.set(member, replacing);
    }
    await replacing;
  }
}
