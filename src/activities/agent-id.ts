// The agent conversation's ID, derived from the conversation ID, so every activity (and
// the client reading events) finds the same agent conversation without storing it.
import { createHash } from 'node:crypto';

/** The agent server wants a UUID; derive one from the conversation ID (RFC 4122 v5) so re-creation is idempotent. */
export function agentConversationIdFor(conversationId: string): string {
  const namespace = Buffer.from('6f0c1e52a2f44c1a9d3b5e7f8a9b0c1d', 'hex');
  const hash = createHash('sha1').update(namespace).update(conversationId).digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
