// Reading the agent server's events: which ones are messages, and their text.
import type { AgentEvent } from './agent-server-schemas.js';

/** A MessageEvent from `source` ('user' or 'agent'). */
export const isMessageFrom = (event: AgentEvent, source: 'user' | 'agent') => event.kind === 'MessageEvent' && event.source === source;

/** The text parts of a MessageEvent's llm_message, joined; '' for other events. */
export function messageText(event: AgentEvent): string {
  const content = (event as { llm_message?: { content?: Array<{ text?: unknown }> } }).llm_message?.content ?? [];
  return content.map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
}
