// The agent's events as a transcript a person reads: one line per event, saying who
// said or did what. The raw events (`events --json`) bury a reply at
// `llm_message.content[0].text` among a hundred lines of JSON.
import type { AgentEvent } from '../runtime-api/index.js';
import { messageText } from '../runtime-api/index.js';

/** Longer texts are cut here: one line per event; `--json` has them whole. */
const MAX_TEXT = 300;

export function transcriptLine(event: AgentEvent): string {
  return `${clock(event.timestamp)} ${who(event).padEnd(6)} ${what(event)}`;
}

/** `HH:MM:SS` from an ISO-like timestamp (the real server writes naive local time; ours, UTC). */
function clock(timestamp: string): string {
  return /T(\d\d:\d\d:\d\d)/.exec(timestamp)?.[1] ?? timestamp.slice(0, 8).padEnd(8);
}

function who(event: AgentEvent): string {
  if (event.kind === 'ConversationStateUpdateEvent' || event.source === 'environment') return 'state';
  return event.source ?? 'agent';
}

function what(event: AgentEvent): string {
  const fields = event as Record<string, unknown>;
  switch (event.kind) {
    case 'MessageEvent':
      return oneLine(messageText(event)) || '(empty message)';
    case 'ActionEvent':
      return `→ ${String(fields.tool_name ?? actionKind(fields) ?? 'tool')}: ${oneLine(actionSummary(fields))}`;
    case 'ObservationEvent':
      return `← ${String(fields.tool_name ?? 'tool')} result: ${oneLine(observationText(fields))}`;
    case 'ConversationStateUpdateEvent':
      return `${String(fields.key ?? 'state')} = ${oneLine(typeof fields.value === 'string' ? fields.value : JSON.stringify(fields.value))}`;
    case 'AgentErrorEvent':
      return `error: ${oneLine(String(fields.error ?? ''))}`;
    case 'SystemPromptEvent':
      return '(system prompt)';
    default:
      return `(${event.kind})`;
  }
}

function actionKind(fields: Record<string, unknown>): string | undefined {
  const action = fields.action as { kind?: unknown } | undefined;
  return typeof action?.kind === 'string' ? action.kind : undefined;
}

/** The command, path or first string field of the action: what the tool was asked to do. */
function actionSummary(fields: Record<string, unknown>): string {
  const action = (fields.action ?? {}) as Record<string, unknown>;
  for (const key of ['command', 'path', 'message', 'task_list']) {
    if (typeof action[key] === 'string') return action[key];
  }
  const first = Object.entries(action).find(([key, value]) => key !== 'kind' && typeof value === 'string');
  return first ? String(first[1]) : JSON.stringify(action);
}

function observationText(fields: Record<string, unknown>): string {
  const observation = (fields.observation ?? {}) as { content?: unknown; output?: unknown };
  const content = observation.content ?? observation.output;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : '')).join('');
  return JSON.stringify(observation);
}

/** Newlines shown as ⏎ and long texts cut, so an event stays on one line. */
function oneLine(text: string): string {
  const flat = text.trim().replace(/\r?\n/g, ' ⏎ ');
  return flat.length <= MAX_TEXT ? flat : `${flat.slice(0, MAX_TEXT)}… (${flat.length - MAX_TEXT} more characters; --json for all)`;
}
