// What a workflow's activities did, read from Temporal rather than from the workers: which
// activity an attempt is running for now (describe's pending activities), and on which
// attempt an activity completed (the history), so a test can show that a worker died
// inside that activity and another worker finished it. Neither is a query, so neither
// can be handed to a worker that just died (a query can, and then fails with CANCELLED).
import type { WorkflowHandle } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';

const PENDING_ACTIVITY_STATE_STARTED = 2;
const EVENT_TYPE_ACTIVITY_TASK_STARTED = 11;
const EVENT_TYPE_ACTIVITY_TASK_COMPLETED = 12;
const EVENT_TYPE_ACTIVITY_TASK_SCHEDULED = 10;

/** Polls describe until an attempt of `activity` runs on a worker; resolves with its attempt number. */
export async function insideActivity(handle: WorkflowHandle, activity: string, timeoutMs = 90_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    const running = pending.find((p) => p.activityType?.name === activity && (p.state as number | null | undefined) === PENDING_ACTIVITY_STATE_STARTED);
    if (running) return running.attempt ?? 1;
    await sleep(50);
  }
  throw new Error(`${handle.workflowId}: no ${activity} attempt started within ${timeoutMs} ms`);
}

/** The attempt on which each completed `activity` of the workflow completed, in history order. */
export async function completedAttempts(handle: WorkflowHandle, activity: string): Promise<number[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const ofType = new Set<string>();
  const attempts = new Map<string, number>();
  const completed: number[] = [];
  for (const event of events) {
    const type = event.eventType as number | null | undefined;
    if (type === EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && event.activityTaskScheduledEventAttributes?.activityType?.name === activity) ofType.add(String(event.eventId));
    if (type === EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      const attrs = event.activityTaskStartedEventAttributes;
      attempts.set(String(attrs?.scheduledEventId), attrs?.attempt ?? 1);
    }
    const scheduledId = String(event.activityTaskCompletedEventAttributes?.scheduledEventId);
    if (type === EVENT_TYPE_ACTIVITY_TASK_COMPLETED && ofType.has(scheduledId)) completed.push(attempts.get(scheduledId) ?? 0);
  }
  return completed;
}

/** Polls the history until `count` `activity`s have completed; resolves with the attempts of the first `count`. */
export async function untilCompleted(handle: WorkflowHandle, activity: string, count: number, timeoutMs = 90_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const attempts = await completedAttempts(handle, activity);
    if (attempts.length >= count) return attempts.slice(0, count); // a later one may have completed by the time we looked
    if (Date.now() > deadline) throw new Error(`${handle.workflowId}: ${attempts.length} of ${count} ${activity} completed within ${timeoutMs} ms`);
    await sleep(200);
  }
}
