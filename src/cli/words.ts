// What the status words and numbers the CLI prints mean, in the user's terms. The
// workflow keeps the seed's names (STOPPED, ARCHIVED) because search attributes, saved
// views and histories use them; the CLI explains them where it shows them instead of
// renaming them, so what a user reads matches what the Temporal UI filters on.
import type { ConversationStatus } from '../workflows/state.js';
import type { MessageAck } from '../workflows/messages.js';

export const STATUS_MEANINGS: Readonly<Record<ConversationStatus, string>> = {
  STARTING: 'starting: its runtime is being provisioned; messages wait in its queue',
  RUNNING: 'running: its runtime is up and the agent takes messages',
  STOPPED: 'paused: its runtime is paused (idle, asked to, or making room for another); the next message resumes it',
  ARCHIVED: 'closed: it ended (closed, or paused past its retention) and its runtime was stopped; `start` reopens it',
  ERROR: 'failed: provisioning failed and what it had started was torn down',
};

/** The glossary printed under the usage text. */
export const STATUS_GLOSSARY = Object.entries(STATUS_MEANINGS)
  .map(([status, meaning]) => `  ${status.padEnd(9)} ${meaning}`)
  .join('\n');

export function statusMeaning(status: string | undefined): string | undefined {
  return status === undefined ? undefined : STATUS_MEANINGS[status as ConversationStatus];
}

/** What a message acknowledgement's `position` says. */
export function positionMeaning(ack: Pick<MessageAck, 'position' | 'duplicate'>): string {
  if (ack.duplicate) return 'a repeat of a message ID the conversation already has: dropped, the first one counts';
  if (ack.position === 1) return 'queued first: it goes to the agent next (or its turn is running now)';
  return `queued at place ${ack.position}: ${ack.position - 1} message(s) of this conversation go to the agent before it, one turn each`;
}

/** An ack with its position explained (the outcome, when waited for, is left as is). */
export function explainAck<T extends MessageAck | undefined>(ack: T): T extends MessageAck ? T & { positionMeaning: string } : T {
  if (!ack) return ack as never;
  return { ...ack, positionMeaning: positionMeaning(ack) } as never;
}

/** Adds `statusMeaning` beside a `status` field. */
export function explainStatus<T extends { status?: string }>(value: T): T & { statusMeaning?: string } {
  const meaning = statusMeaning(value.status);
  return meaning ? { ...value, statusMeaning: meaning } : value;
}
