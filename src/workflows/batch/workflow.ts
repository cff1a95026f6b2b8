// The batch workflow: owns a batch of prompts and runs each as a conversation, at most
// `concurrency` at a time, recording every item's final reply, status and error in the
// batch store. Progress lives in its state (queryable, and shown in the Temporal UI as
// its current details). Every `continueAsNewEvery` items it lets the running ones end,
// writes their results and continues as new, so its history stays bounded however
// large the batch; a crash of any worker replays it to where it was, and nothing is run
// twice because each item's conversation has a fixed workflow ID.
import { allHandlersFinished, condition, continueAsNew, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ConversationActivities } from '../../activities/index.js';
import { runItem } from './item.js';
import { BATCH_PAGE_SIZE, batchProgressQuery } from './messages.js';
import type { BatchProgress, BatchSettings, ItemResult } from './messages.js';
import { initialBatchState, toProgress } from './state.js';
import { TurnItems } from './turn-items.js';
import type { BatchState } from './state.js';

export interface BatchInput extends BatchSettings {
  /** Set only when the workflow continues as new. */
  readonly state?: BatchState;
}

/** Results are written to the store in groups this large (and at every run's end). */
const FLUSH_EVERY = 32;

const store = proxyActivities<ConversationActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '10s' },
});

export async function batchWorkflow(input: BatchInput): Promise<BatchProgress> {
  const { state: carried, ...settings } = input;
  const state = carried ?? initialBatchState(Date.now());
  let running = 0;
  let page: { number: number; prompts: string[] } | undefined;
  setHandler(batchProgressQuery, () => toProgress(settings, state, running));
  const record = (result: ItemResult) => {
    running--;
    state.pending.push(result);
    if (result.status === 'succeeded') state.succeeded++;
    else state.failed++;
    publish(settings, state, running);
  };
  // Each run attaches anew (idempotent): the owner answers with the runtime it runs now.
  const turnItems = settings.itemMode === 'turn' && state.next < settings.total ? new TurnItems(settings) : undefined;
  await turnItems?.attach();
  const startedBefore = state.next;
  const runEnds = () => state.next - startedBefore >= settings.continueAsNewEvery || workflowInfo().continueAsNewSuggested;
  publish(settings, state, running);
  while (state.next < settings.total && !runEnds()) {
    await condition(() => running < settings.concurrency || state.pending.length >= FLUSH_EVERY);
    if (state.pending.length >= FLUSH_EVERY) await flush(settings, state, turnItems);
    if (running >= settings.concurrency) continue;
    const index = state.next;
    const number = Math.floor(index / BATCH_PAGE_SIZE);
    if (page?.number !== number) page = { number, prompts: (await store.loadBatchPage({ batchId: settings.batchId, page: number })).prompts };
    const prompt = page.prompts[index - number * BATCH_PAGE_SIZE] ?? '';
    state.next++;
    running++;
    // runItem records every failure itself; it rejects only when the batch is cancelled, and then the item is simply not done.
    const onRetry = () => state.retried++;
    void (turnItems ? turnItems.run(index, prompt, onRetry) : runItem(settings, index, prompt, onRetry)).then(record, () => running--);
  }
  // A run ends only between items: its children finish first (continue-as-new would end them).
  await condition(() => running === 0);
  await flush(settings, state, turnItems);
  if (state.next < settings.total) {
    await condition(allHandlersFinished);
    await continueAsNew<typeof batchWorkflow>({ ...settings, state: { ...state, runs: state.runs + 1 } });
  }
  await turnItems?.detach();
  state.finishedAt = Date.now();
  publish(settings, state, running);
  await store.finishBatch({ batchId: settings.batchId, progress: toProgress(settings, state, 0) });
  await condition(allHandlersFinished);
  return toProgress(settings, state, 0);
}

/** Writes the results so far; then, in turn mode, deletes the agent conversations they came from. */
async function flush(settings: BatchSettings, state: BatchState, turnItems: TurnItems | undefined): Promise<void> {
  const results = state.pending.splice(0, state.pending.length);
  if (results.length > 0) await store.recordBatchResults({ batchId: settings.batchId, results });
  await turnItems?.sweep();
}

function publish(settings: BatchSettings, state: BatchState, running: number): void {
  const done = state.succeeded + state.failed;
  const elapsedS = Math.max(1, ((state.finishedAt ?? Date.now()) - state.startedAt) / 1000);
  const rate = done / elapsedS;
  const eta = rate > 0 && done < settings.total ? `, about ${Math.round((settings.total - done) / rate)} s left` : '';
  setCurrentDetails(
    [
      `**batch \`${settings.batchId}\`**: ${done} of ${settings.total} done (${state.succeeded} succeeded, ${state.failed} failed), ${running} running${state.finishedAt ? ', finished' : ''}`,
      `rate ${rate.toFixed(1)} items/s${eta}; concurrency ${settings.concurrency}${settings.runtime ? ` on shared runtime \`${settings.runtime.shared}\` (${settings.runtime.runtimes ?? 1})` : ''}`,
      `retries ${state.retried}; run ${state.runs} of the workflow (continues as new every ${settings.continueAsNewEvery} items)`,
    ].join('\n\n'),
  );
}
