// Why a workflow's task keeps failing, read from its history, for errors that would otherwise
// say only "Workflow Task in failed state": a client without access to the worker's log (a
// CLI user, a batch submitter) can still read what stops the workflow.
import type { Client } from '@temporalio/client';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow/index.js';

/**
 * The workflow's last workflow task failure, decoded (an encrypted failure reads with the
 * client's keys), or its last task timeout; undefined when the history shows neither or
 * cannot be read (the caller's own error then says enough).
 */
export async function workflowTaskTrouble(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const last = events.findLast((event) => event.workflowTaskFailedEventAttributes || event.workflowTaskTimedOutEventAttributes);
    const decoded = await decodeOptionalFailureToOptionalError(client.options.loadedDataConverter, last?.workflowTaskFailedEventAttributes?.failure);
    if (decoded) return `its workflow task fails: ${decoded.message}`;
    if (last?.workflowTaskTimedOutEventAttributes) return 'its workflow task times out (a worker takes longer than the task timeout to run it: an overloaded worker, or a replay of a long history)';
  } catch {
    // Unreadable history: no more to say than the caller's error.
  }
  return undefined;
}
