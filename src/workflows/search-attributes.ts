// Search attributes the conversation workflows keep current, so operators can filter
// conversations by user and state in the Temporal UI. Values are never encrypted by
// the payload codec: only IDs and status names go here, never message text.
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { InvalidInputError } from './validation.js';

export const conversationUserIdKey = defineSearchAttributeKey('ConversationUserId', SearchAttributeType.KEYWORD);
export const conversationStatusKey = defineSearchAttributeKey('ConversationStatus', SearchAttributeType.KEYWORD);
export const runtimeStatusKey = defineSearchAttributeKey('ConversationRuntimeStatus', SearchAttributeType.KEYWORD);
/** Messages the runtime refused (e.g. 413): operators find them with `ConversationRefusedMessages > 0`. */
export const refusedMessagesKey = defineSearchAttributeKey('ConversationRefusedMessages', SearchAttributeType.INT);
/** True while a conversation waits for a slot of its user's: operators find them with `ConversationWaitingForSlot = true`. */
export const waitingForSlotKey = defineSearchAttributeKey('ConversationWaitingForSlot', SearchAttributeType.BOOL);

/** Every key the project needs registered on the server before workflows start. */
export const projectSearchAttributes = [conversationUserIdKey, conversationStatusKey, runtimeStatusKey, refusedMessagesKey, waitingForSlotKey] as const;

/**
 * A string literal for a visibility query. Callers validate values first (IDs, statuses);
 * this is the second line of defence, so no value can end the literal: a quote is escaped
 * (Temporal's parser reads \' as a quote), and a backslash or control character,
 * which that parser does not decode consistently, is refused.
 */
export function visibilityLiteral(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f]/.test(value)) throw new InvalidInputError('query', `${JSON.stringify(value)} cannot be used in a visibility query`);
  return `'${value.replace(/'/g, "\\'")}'`;
}

/** The visibility query for conversations, optionally of one user and in one status (both already validated). */
export function conversationListQuery(filter: { userId?: string; status?: string }): string {
  const clauses = [`WorkflowType = ${visibilityLiteral('conversationWorkflow')}`];
  if (filter.userId !== undefined) clauses.push(`${conversationUserIdKey.name} = ${visibilityLiteral(filter.userId)}`);
  if (filter.status !== undefined) clauses.push(`${conversationStatusKey.name} = ${visibilityLiteral(filter.status)}`);
  return clauses.join(' AND ');
}
