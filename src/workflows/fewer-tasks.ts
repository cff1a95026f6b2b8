// The patch that took workflow tasks off the paths a user waits on (start → ready, and a
// message to a paused conversation): the user's admission limit is read by a local
// activity, so a user without one costs no round trip, and one activity ensures the
// runtime, waits until it is alive and creates the agent conversation, where three did.
// Runs recorded before it replay step by step. Its own module so that the benchmark can
// build the code from before the patch beside it (bench/support/setup.ts).
import { patched } from '@temporalio/workflow';

export const FEWER_TASKS_TO_PROVISION = 'fewer-tasks-to-provision';

export function fewerTasksToProvision(): boolean {
  return patched(FEWER_TASKS_TO_PROVISION);
}
