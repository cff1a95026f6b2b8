// The floor for start → ready (bundled only by bench/conversations.ts): the least any
// workflow can add to provisioning. It runs the conversation's own provisionRuntime activity
// once, with the same options, and returns: one workflow task to schedule it and one to
// complete, nothing else. Measured beside the direct calls and ConversationWorkflow, its
// ratio to the direct calls is where a ratio target stops being reachable on this server.
import { proxyActivities } from '@temporalio/workflow';
import type { ConversationActivities } from '../../src/activities/index.js';
import { GONE_RETRIES } from '../../src/workflows/activities.js';

const { provisionRuntime } = proxyActivities<ConversationActivities>({ startToCloseTimeout: '3m', heartbeatTimeout: '10s' });

export async function floorWorkflow(input: { sessionId: string; timeoutMs: number }): Promise<string> {
  const runtime = await provisionRuntime({ sessionId: input.sessionId, timeoutMs: input.timeoutMs, goneRetries: GONE_RETRIES });
  return runtime.runtimeId;
}
