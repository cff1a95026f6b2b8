// What a shared-runtime test reads from outside the workflows: the owner's status, the
// runtime of a shared session, and how many agent conversations live on it (the agent
// server's own count, GET /api/conversations/count, with the session's key).
import type { Client } from '@temporalio/client';
import { AgentServerClient } from '../../src/runtime-api/index.js';
import type { RuntimeApiClient } from '../../src/runtime-api/index.js';
import { sharedRuntimeStatusQuery, sharedRuntimeWorkflowId, sharedSessionId } from '../../src/workflows/shared-runtime/messages.js';
import type { SharedRuntimeStatus } from '../../src/workflows/shared-runtime/messages.js';

export function sharedRuntimeStatus(client: Client, taskQueue: string, member: string): Promise<SharedRuntimeStatus> {
  return client.workflow.getHandle(sharedRuntimeWorkflowId(taskQueue, member)).query(sharedRuntimeStatusQuery);
}

/** The agent conversations on the shared runtime `member`; undefined when it has no running runtime. */
export async function agentConversationsOn(runtimeApi: RuntimeApiClient, member: string): Promise<number | undefined> {
  const session = await runtimeApi.getSession(sharedSessionId(member));
  if (!session || session.status !== 'running') return undefined;
  const agent = new AgentServerClient({ baseUrl: session.url, sessionApiKey: session.session_api_key ?? undefined });
  try {
    return await agent.count();
  } finally {
    await agent.close();
  }
}
