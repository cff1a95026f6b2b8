// Activities of the batch workflow over the batch store: read a page of prompts, append
// results, write the final summary. Each is idempotent or safe to repeat (see store.ts).
import type { BatchStore } from '../batch/store.js';
import type { BatchProgress, ItemResult } from '../workflows/batch/messages.js';

export function batchActivities(deps: { readonly batchStore: BatchStore }) {
  return {
    async loadBatchPage(input: { batchId: string; page: number }): Promise<{ prompts: string[] }> {
      return { prompts: await deps.batchStore.page(input.batchId, input.page) };
    },
    async recordBatchResults(input: { batchId: string; results: ItemResult[] }): Promise<void> {
      await deps.batchStore.appendResults(input.batchId, input.results);
    },
    async finishBatch(input: { batchId: string; progress: BatchProgress }): Promise<void> {
      await deps.batchStore.finish(input.batchId, input.progress);
    },
  };
}
