// Keeps a conversation's transcript before its runtime goes: the agent's events live in
// the runtime, so they are read and written to the worker's data folder just before a
// pause (a paused runtime cannot be read) and a stop (after it nothing can). Best effort
// and bounded: a transcript that cannot be read never holds up or fails the stop.
import { log } from '@temporalio/activity';
import type { AgentEvent } from '../runtime-api/index.js';
import { AgentServerClient, RuntimeHttpError } from '../runtime-api/index.js';
import { writeTranscript } from '../transcripts.js';
import { agentConversationIdFor } from './agent-id.js';
import type { ActivityDeps } from './deps.js';

/** Long enough to read thousands of events from a live runtime; short beside a stop's timeout. */
const KEEP_TIMEOUT_MS = 20_000;

/** `sessionId` undefined: looked up from the runtime (the pause activity is given only the runtime ID). */
export async function keepTranscript(deps: ActivityDeps, runtimeId: string, sessionId?: string): Promise<void> {
  if (!deps.transcriptDir) return;
  const signal = AbortSignal.timeout(KEEP_TIMEOUT_MS);
  try {
    sessionId ??= (await deps.runtimeApi.list({ signal })).runtimes.find((runtime) => runtime.runtime_id === runtimeId)?.session_id;
    if (!sessionId) return;
    const session = await deps.runtimeApi.getSession(sessionId, { signal });
    // Only a running runtime can be read; a paused one was kept when it was paused.
    if (!session || session.runtime_id !== runtimeId || session.status !== 'running') return;
    const agent = new AgentServerClient({ baseUrl: session.url, sessionApiKey: session.session_api_key, dispatcher: deps.agentDispatcher });
    await keepTranscriptWith(deps, agent, sessionId, agentConversationIdFor(sessionId), signal);
  } catch (error) {
    log.warn('transcript not kept', { sessionId, error: String(error) });
  }
}

/** The same, with a client for the runtime already at hand (deleting the agent conversation). Never throws. */
export async function keepTranscriptWith(deps: ActivityDeps, agent: AgentServerClient, sessionId: string, agentConversationId: string, signal = AbortSignal.timeout(KEEP_TIMEOUT_MS)): Promise<void> {
  if (!deps.transcriptDir) return;
  try {
    const events = await readAll(agent, agentConversationId, signal);
    // Nothing to keep (a new agent conversation): leave any transcript written before in place.
    if (events.length === 0) return;
    const file = await writeTranscript(deps.transcriptDir, sessionId, events, deps.transcriptCodecs);
    log.info('transcript kept', { sessionId, events: events.length, file });
  } catch (error) {
    // 404: the agent conversation was deleted already (a close deletes it before it stops the
    // runtime), and its transcript was kept just before that delete.
    if (error instanceof RuntimeHttpError && error.status === 404) log.debug('no agent conversation left to keep', { sessionId });
    else log.warn('transcript not kept', { sessionId, error: String(error) });
  }
}

async function readAll(agent: AgentServerClient, agentConversationId: string, signal: AbortSignal): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  let pageId: string | undefined;
  do {
    const page = await agent.searchEvents(agentConversationId, { page_id: pageId, limit: 100 }, { signal });
    events.push(...page.items);
    pageId = page.next_page_id ?? undefined;
  } while (pageId);
  return events;
}
