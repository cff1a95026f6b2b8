// Search attributes the conversation workflows keep current, so operators can filter
// conversations by user and state in the Temporal UI. Values are never encrypted by
// the payload codec: only IDs and status names go here, never message text.
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';

export const conversationUserIdKey = defineSearchAttributeKey('ConversationUserId', SearchAttributeType.KEYWORD);
export const conversationStatusKey = defineSearchAttributeKey('ConversationStatus', SearchAttributeType.KEYWORD);
export const runtimeStatusKey = defineSearchAttributeKey('ConversationRuntimeStatus', SearchAttributeType.KEYWORD);

/** Every key the project needs registered on the server before workflows start. */
export const projectSearchAttributes = [conversationUserIdKey, conversationStatusKey, runtimeStatusKey] as const;
