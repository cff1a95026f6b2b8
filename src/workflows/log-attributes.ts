// Every log line a conversation's workflow writes names the conversation, the run and the
// runtime (the SDK adds runId). Attributes only: no command, so histories are unaffected.
// Module state is per workflow run: the SDK gives each run its own module instances.
import { workflowInfo } from '@temporalio/workflow';
import type { WorkflowInterceptors } from '@temporalio/workflow';

let currentRuntimeId: string | undefined;

/** Called whenever the conversation publishes its state. */
export function noteRuntime(runtimeId: string | undefined): void {
  currentRuntimeId = runtimeId;
}

export const interceptors = (): WorkflowInterceptors => ({
  outbound: [
    {
      getLogAttributes: (input, next) => {
        const info = workflowInfo();
        if (info.workflowType !== 'conversationWorkflow') return next(input);
        return next({ conversationId: info.workflowId, ...(currentRuntimeId && { runtimeId: currentRuntimeId }), ...input });
      },
    },
  ],
});
