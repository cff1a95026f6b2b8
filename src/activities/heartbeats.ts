// Every activity heartbeats while it runs. A worker that dies is then noticed within the
// heartbeat timeout (seconds) instead of the start-to-close timeout (minutes), and a
// cancellation reaches an activity that is only waiting on a slow HTTP call. Activities
// that keep progress for their next attempt record it with `progress()`; the keeper
// repeats the latest details, so its beats never overwrite them.
import { Context } from '@temporalio/activity';

/** Well under the shortest heartbeat timeout the workflow sets (see workflows/activities.ts). */
export const HEARTBEAT_EVERY_MS = 1_000;

const latest = new WeakMap<Context, unknown>();

/** Records details for a retry of this activity (read back with `lastProgress()`), and heartbeats now. */
export function progress(details: unknown): void {
  const context = Context.current();
  latest.set(context, details);
  context.heartbeat(details);
}

/** The details the previous attempt recorded, if any. */
export function lastProgress<T>(): T | undefined {
  return Context.current().info.heartbeatDetails as T | undefined;
}

export function withHeartbeats<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const context = Context.current();
    // A local activity has no heartbeat (core warns at each call): it runs inside a workflow task.
    if (context.info.isLocal) return fn(...args);
    const beat = () => context.heartbeat(latest.has(context) ? latest.get(context) : context.info.heartbeatDetails);
    beat();
    const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
    try {
      return await fn(...args);
    } finally {
      clearInterval(timer);
    }
  };
}
