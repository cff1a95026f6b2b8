// The batch workflow's state, one plain-JSON object carried across continue-as-new.
// Results wait in `pending` only until the next write to the batch store.
import type { BatchProgress, BatchSettings, ItemResult } from './messages.js';

export interface BatchState {
  /** The next item to start; every item before it has been started (and, at a run's start, finished). */
  next: number;
  succeeded: number;
  failed: number;
  retried: number;
  startedAt: number;
  finishedAt?: number;
  runs: number;
  pending: ItemResult[];
}

export function initialBatchState(now: number): BatchState {
  return { next: 0, succeeded: 0, failed: 0, retried: 0, startedAt: now, runs: 1, pending: [] };
}

export function toProgress(settings: BatchSettings, state: BatchState, running: number): BatchProgress {
  return {
    batchId: settings.batchId,
    total: settings.total,
    succeeded: state.succeeded,
    failed: state.failed,
    running,
    retried: state.retried,
    startedAt: new Date(state.startedAt).toISOString(),
    ...(state.finishedAt !== undefined && { finishedAt: new Date(state.finishedAt).toISOString() }),
    runs: state.runs,
  };
}
