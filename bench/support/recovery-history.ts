// Reading the recovery from a dead worker in the workflow's history (server timestamps,
// same machine as the benchmark's clock): when the activity that was cut short
// completed, on which attempt, and how and when the next workflow task ran.
import type { WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { setTimeout as sleep } from 'node:timers/promises';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** temporal.api.enums.v1 values (@temporalio/proto is not a direct dependency). */
const E = {
  WORKFLOW_TASK_SCHEDULED: 5,
  WORKFLOW_TASK_STARTED: 6,
  WORKFLOW_TASK_COMPLETED: 7,
  WORKFLOW_TASK_TIMED_OUT: 8,
  ACTIVITY_TASK_SCHEDULED: 10,
  ACTIVITY_TASK_STARTED: 11,
  ACTIVITY_TASK_COMPLETED: 12,
  ACTIVITY_TASK_FAILED: 13,
  ACTIVITY_TASK_TIMED_OUT: 14,
  ACTIVITY_TASK_CANCELED: 16,
} as const;
const ACTIVITY_CLOSED: readonly number[] = [E.ACTIVITY_TASK_COMPLETED, E.ACTIVITY_TASK_FAILED, E.ACTIVITY_TASK_TIMED_OUT, E.ACTIVITY_TASK_CANCELED];
const STICKY = 2; // TASK_QUEUE_KIND_STICKY
const SCHEDULE_TO_START = 2; // TIMEOUT_TYPE_SCHEDULE_TO_START

export interface Recovery {
  /** When the activity closed (completed, failed, timed out or cancelled). */
  readonly doneAt: number;
  readonly outcome: 'completed' | 'failed' | 'timed out' | 'cancelled';
  /** The attempt that closed it (1 = the one that was cut short, so no retry happened). */
  readonly attempt: number;
  /** The workflow task that took the result in: when it completed, and where it was queued. */
  readonly workflowTaskDoneAt: number;
  readonly workflowTaskQueue: 'sticky' | 'normal';
  /** Workflow tasks that timed out waiting on a sticky queue since the kill. */
  readonly stickyTimeouts: number;
}

/**
 * The close of the first `activity` after `since` and the workflow task after it, as far
 * as the history has them: `workflowTaskDoneAt` is undefined until that task completed.
 */
export function recoveryIn(events: readonly HistoryEvent[], activity: string, since: number): Partial<Recovery> & { doneAt?: number } {
  const scheduledType = new Map<string, string>();
  const startedAttempt = new Map<string, number>();
  let closed: Pick<Recovery, 'doneAt' | 'outcome' | 'attempt'> | undefined;
  let workflowTaskQueue: Recovery['workflowTaskQueue'] | undefined;
  let stickyTimeouts = 0;
  for (const event of events) {
    const type = (event.eventType as number | null | undefined) ?? 0;
    const at = tsToMs(event.eventTime);
    if (type === E.ACTIVITY_TASK_SCHEDULED) scheduledType.set(String(event.eventId), event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
    if (type === E.ACTIVITY_TASK_STARTED) {
      const attrs = event.activityTaskStartedEventAttributes;
      startedAttempt.set(String(attrs?.scheduledEventId), attrs?.attempt ?? 1);
    }
    if (at < since) continue;
    if (type === E.WORKFLOW_TASK_TIMED_OUT && (event.workflowTaskTimedOutEventAttributes?.timeoutType as number | undefined) === SCHEDULE_TO_START) stickyTimeouts++;
    if (!closed && ACTIVITY_CLOSED.includes(type)) {
      const scheduledId = String(closeAttributes(event)?.scheduledEventId);
      if (scheduledType.get(scheduledId) !== activity) continue;
      const outcome = (['completed', 'failed', 'timed out', 'cancelled'] as const)[ACTIVITY_CLOSED.indexOf(type)]!;
      closed = { doneAt: at, outcome, attempt: startedAttempt.get(scheduledId) ?? 0 };
      continue;
    }
    if (closed && type === E.WORKFLOW_TASK_SCHEDULED && !workflowTaskQueue) {
      workflowTaskQueue = (event.workflowTaskScheduledEventAttributes?.taskQueue?.kind as number | undefined) === STICKY ? 'sticky' : 'normal';
    }
    if (closed && workflowTaskQueue && type === E.WORKFLOW_TASK_COMPLETED) return { ...closed, workflowTaskDoneAt: at, workflowTaskQueue, stickyTimeouts };
  }
  return { ...closed, stickyTimeouts };
}

function closeAttributes(event: HistoryEvent) {
  return (
    event.activityTaskCompletedEventAttributes ??
    event.activityTaskFailedEventAttributes ??
    event.activityTaskTimedOutEventAttributes ??
    event.activityTaskCanceledEventAttributes
  );
}

/** The worker was killed after the activity had already completed: the run measured nothing. */
export class KilledTooLateError extends Error {}

/** Polls the history until the recovery is complete; `onActivityDone` is called as soon as the activity closed. */
export async function awaitRecovery(
  handle: WorkflowHandle,
  activity: string,
  times: { enteredAt: number; killedAt: number },
  onActivityDone: () => void,
  timeoutMs = 180_000,
): Promise<Recovery> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const events = (await handle.fetchHistory()).events ?? [];
    const early = recoveryIn(events, activity, times.enteredAt).doneAt;
    if (early !== undefined && early < times.killedAt) throw new KilledTooLateError(`${activity} completed ${early - times.killedAt} ms before the kill`);
    const found = recoveryIn(events, activity, times.killedAt);
    if (found.doneAt !== undefined) onActivityDone();
    if (found.workflowTaskDoneAt !== undefined) return found as Recovery;
    await sleep(200);
  }
  throw new Error(`${handle.workflowId}: ${activity} and the workflow task after it were not done within ${timeoutMs} ms of the kill`);
}
