// Every log line an activity of a conversation writes names the conversation, the run and
// the runtime it works on (from its input, when it names one), as the workflow's lines do
// (workflows/log-attributes.ts).
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

export const conversationLogAttributes: ActivityInterceptorsFactory = (ctx) => {
  const run = ctx.info.workflowExecution;
  if (ctx.info.workflowType !== 'conversationWorkflow' || !run) return {};
  let runtimeId: string | undefined;
  return {
    inbound: {
      execute: (input, next) => {
        const first: unknown = input.args[0];
        const named = (first as { runtimeId?: unknown } | null)?.runtimeId;
        if (typeof named === 'string') runtimeId = named;
        return next(input);
      },
    },
    outbound: {
      getLogAttributes: (attributes, next) =>
        next({ conversationId: run.workflowId, runId: run.runId, ...(runtimeId && { runtimeId }), ...attributes }),
    },
  };
};
