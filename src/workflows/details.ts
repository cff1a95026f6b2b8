// The workflow's current details (markdown on its page in the Temporal UI), in the words an
// operator reads: what the status means, what the runtime and the agent are doing, the turn
// in progress and since when, the queue, the last error with its time and whether the
// conversation got past it, the policy in words. Only IDs, status names and counts: never a
// message's text (history payloads are encrypted; these details are not).
// Setting details is not a command, so changing their wording keeps histories replayable.
import type { ConversationState } from './state.js';

const STATUS_WORDS: Readonly<Record<ConversationState['status'], string>> = {
  STARTING: 'starting — its runtime is being provisioned',
  RUNNING: 'running',
  STOPPED: 'paused — the next message resumes it',
  ARCHIVED: 'closed — its runtime was stopped',
  ERROR: 'failed — provisioning failed and was undone',
};

export function currentDetails(state: ConversationState): string {
  const ended = state.status === 'ARCHIVED' || state.status === 'ERROR';
  // The message of a turn stays at the head of the queue until the loop takes it off, a step
  // after the turn's end is published: count only the messages still waiting for a turn.
  const turnRunning = state.turn !== undefined && state.executionStatus === 'running';
  const waiting = state.queue.filter((message) => message.messageId !== state.turn?.messageId).length;
  return [
    `**${state.status}** (${STATUS_WORDS[state.status]}) — conversation \`${state.conversationId}\` of user \`${state.userId}\``,
    `runtime: ${state.runtime.state}${state.runtime.id ? ` (\`${state.runtime.id}\`)` : ''}${state.runtime.replaced ? `, replaced ${state.runtime.replaced}×` : ''}`,
    // A closed conversation's agent is gone with its runtime: its last reported state would read as if it still ran.
    ended ? '' : `agent: ${state.executionStatus ?? 'not started yet'}`,
    turnRunning && state.turn ? `turn in progress: message \`${state.turn.messageId}\`${state.turn.since ? ` since ${state.turn.since}` : ''}` : '',
    `messages: ${state.received} received, ${state.delivered} delivered, ${waiting} waiting for their turn${state.duplicates ? `, ${state.duplicates} duplicates dropped` : ''}`,
    `last activity: ${new Date(state.lastActivityAt).toISOString()}`,
    state.admission?.phase === 'waiting' ? `waiting for a slot of user \`${state.userId}\` (position ${state.admission.position ?? '?'}, policy ${state.admission.policy ?? '?'})` : '',
    state.stopReason ? `paused by the system: ${state.stopReason}` : '',
    state.refused ? `refused messages: ${state.refused} (last: \`${state.lastRefused?.messageId ?? '?'}\`)` : '',
    state.notice ? `note: ${state.notice}` : '',
    lastErrorLine(state),
    `policy: pause after ${inWords(state.policy.idleDelayMs)} idle, close after ${inWords(state.policy.retentionMs)} paused, close ${state.policy.closePolicy === 'pause' ? 'pauses' : 'stops'} the runtime`,
  ]
    .filter(Boolean)
    .join('\n\n');
}

function lastErrorLine(state: ConversationState): string {
  const error = state.lastError;
  if (!error) return '';
  // Activity since the error, in a healthy state, means the conversation got past it.
  const recovered = state.status !== 'ERROR' && state.runtime.state !== 'error' && state.lastActivityAt > error.at;
  return `last error at ${new Date(error.at).toISOString()} (${recovered ? 'recovered since' : 'not recovered yet'}): ${error.type}: ${error.message}`;
}

/** 1200000 → "20 minutes"; 604800000 → "7 days"; 90000 → "1.5 minutes". */
export function inWords(ms: number): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1_000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size) {
      const value = Math.round((ms / size) * 10) / 10;
      return `${value} ${name}${value === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}
