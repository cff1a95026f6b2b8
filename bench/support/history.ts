// Where a workflow's time went, read from its history (server timestamps, same machine
// as the client): time queued before a worker took a workflow or activity task, time
// the worker spent on it, and the client's own legs around them.
import type { WorkflowHandle } from '@temporalio/client';
import type { LoadedDataConverter } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/codec-helpers.js';
import { tsToMs } from '@temporalio/common/lib/time.js';
import type { ProvisionedRuntime } from '../../src/activities/provisioning.js';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** temporal.api.enums.v1.EventType values (@temporalio/proto is not a direct dependency). */
const T = {
  EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: 1,
  EVENT_TYPE_WORKFLOW_TASK_SCHEDULED: 5,
  EVENT_TYPE_WORKFLOW_TASK_STARTED: 6,
  EVENT_TYPE_WORKFLOW_TASK_COMPLETED: 7,
  EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: 10,
  EVENT_TYPE_ACTIVITY_TASK_STARTED: 11,
  EVENT_TYPE_ACTIVITY_TASK_COMPLETED: 12,
  EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: 26,
  EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: 43,
} as const;

export interface Span {
  /** When the task was scheduled (epoch ms). */
  readonly at: number;
  readonly queuedMs: number;
  readonly runMs: number;
}

export interface Timeline {
  readonly startedAt: number;
  readonly workflowTasks: Span[];
  /** Per activity type, in the order they ran. */
  readonly activities: Array<Span & { readonly type: string }>;
  readonly signaledAt: number[];
  /** When the last update completed (start → ready: waitUntilReady). */
  readonly updateCompletedAt: number | undefined;
}

const timeOf = (event: HistoryEvent) => tsToMs(event.eventTime);

/** Pairs scheduled/started/completed events of workflow and activity tasks. */
export function timeline(events: readonly HistoryEvent[]): Timeline {
  const result: { -readonly [K in keyof Timeline]: Timeline[K] } = { startedAt: Number.NaN, workflowTasks: [], activities: [], signaledAt: [], updateCompletedAt: undefined };
  const scheduled = new Map<string, { at: number; type: string }>();
  const started = new Map<string, number>();
  let wft: { scheduled: number; started?: number } | undefined;
  for (const event of events) {
    const at = timeOf(event);
    const id = String(event.eventId);
    switch (event.eventType as number | null | undefined) {
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        result.startedAt = at;
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        wft = { scheduled: at };
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        if (wft) wft.started = at;
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        if (wft?.started !== undefined) result.workflowTasks.push({ at: wft.scheduled, queuedMs: wft.started - wft.scheduled, runMs: at - wft.started });
        wft = undefined;
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(id, { at, type: event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?' });
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        started.set(String(event.activityTaskStartedEventAttributes?.scheduledEventId), at);
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const key = String(event.activityTaskCompletedEventAttributes?.scheduledEventId);
        const s = scheduled.get(key);
        const st = started.get(key);
        if (s && st !== undefined) result.activities.push({ type: s.type, at: s.at, queuedMs: st - s.at, runMs: at - st });
        break;
      }
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        result.signaledAt.push(at);
        break;
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
        result.updateCompletedAt = at; // the last one: waitUntilReady, after the admission update
        break;
    }
  }
  return result;
}

/** Wall-clock now with sub-millisecond resolution, comparable to server event times. */
export const wallNow = () => performance.timeOrigin + performance.now();

/**
 * The runtime's own part (ensure + alive, from the activity's `stepsMs`) of each
 * provisionRuntime that completed at or after `since`, decoded with the client's data converter.
 */
export async function provisionRuntimeMs(events: readonly HistoryEvent[], converter: LoadedDataConverter, since: number): Promise<number[]> {
  const provisions = new Set<string>();
  const found: number[] = [];
  for (const event of events) {
    if ((event.eventType as number) === T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && event.activityTaskScheduledEventAttributes?.activityType?.name === 'provisionRuntime') {
      provisions.add(String(event.eventId));
    }
    const completed = event.activityTaskCompletedEventAttributes;
    if ((event.eventType as number) !== T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED || !completed || timeOf(event) < since) continue;
    if (!provisions.has(String(completed.scheduledEventId))) continue;
    const result = await decodeFromPayloadsAtIndex<ProvisionedRuntime>(converter, 0, completed.result?.payloads);
    found.push(result.stepsMs.ensure + result.stepsMs.alive);
  }
  return found;
}
