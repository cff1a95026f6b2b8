// A trivial workflow operators and start-up checks use to prove that a worker is
// polling the task queue: `temporal workflow execute --type healthCheckWorkflow ...`.
import { workflowInfo } from '@temporalio/workflow';

export async function healthCheckWorkflow(name = 'world'): Promise<string> {
  return `ok: ${name} (task queue ${workflowInfo().taskQueue})`;
}
