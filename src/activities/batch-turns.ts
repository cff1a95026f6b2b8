// A batch item run as one agent turn on a shared runtime, in one activity: create the
// item's agent conversation, deliver its prompt, follow the turn, read the reply. No
// workflow per item, so an item costs Temporal one activity instead of a conversation's
// whole history, which is what lets a batch of 100,000 run near the server's pace.
//
// Exactly once rests on the agent conversation's ID, derived from the item's: a retry
// (after a worker died mid-turn, say) finds the conversation its first attempt made,
// sees the prompt already there, and follows the same turn instead of posting it again.
// For that to hold the agent conversation must outlive the activity, so it is deleted
// later, in groups, once the batch has the item's result (`deleteBatchTurns`).
import { setMaxListeners } from 'node:events';
import { cancellationSignal } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ConversationErrorType } from '../failure-types.js';
import type { SharedRuntimeRef } from '../workflows/shared-runtime/messages.js';
import { agentActivities, agentConversationIdFor } from './agent.js';
import type { TurnOutcome } from './agent.js';
import type { ActivityDeps } from './deps.js';

export interface BatchTurnInput {
  readonly runtime: Pick<SharedRuntimeRef, 'sessionId' | 'runtimeId' | 'url'>;
  /** The item attempt's ID: its agent conversation's ID derives from it. */
  readonly itemId: string;
  readonly prompt: string;
  readonly replyMaxBytes: number;
}

/** Agent conversations deleted at once. */
const DELETE_GROUP = 8;

export function batchTurnActivities(deps: ActivityDeps) {
  const agent = agentActivities(deps);
  return {
    async runBatchTurn(input: BatchTurnInput): Promise<TurnOutcome> {
      // A turn has no conversation whose validator holds the deployment's message limit: it is held here.
      const limit = deps.policy.defaults.maxMessageBytes;
      const size = Buffer.byteLength(input.prompt, 'utf8');
      if (size > limit) {
        throw ApplicationFailure.create({
          type: ConversationErrorType.InvalidInput,
          nonRetryable: true,
          message: `refused by the deployment: the prompt is ${size} bytes, over its limit of ${limit} (MESSAGE_MAX_BYTES)`,
        });
      }
      const { agentConversationId } = await agent.createAgentConversation({ ...input.runtime, conversationId: input.itemId });
      const target = { ...input.runtime, agentConversationId };
      // A fresh item conversation holds no user message before its prompt; one found there is this prompt, from an earlier attempt.
      const delivery = await agent.deliverMessage({ ...target, messageId: input.itemId, text: input.prompt, userMessagesBefore: 0 });
      return agent.awaitTurn({ ...target, since: delivery.since, replyMaxBytes: input.replyMaxBytes });
    },

    /** Deletes finished items' agent conversations, so nothing piles up in the runtime; returns how many were still there. */
    async deleteBatchTurns(input: { runtime: BatchTurnInput['runtime']; itemIds: string[] }): Promise<{ deleted: number }> {
      let deleted = 0;
      // Every request of a group listens on the activity's one cancellation signal, and undici lets go of its
      // listener only when a response closes, a tick after it is read: up to two groups' worth at once.
      // That is not a leak, so the warning Node gives past 10 listeners is raised out of the way.
      setMaxListeners(4 * DELETE_GROUP, cancellationSignal());
      // A few at a time: the runtime is busy with the batch's turns.
      for (let i = 0; i < input.itemIds.length; i += DELETE_GROUP) {
        const group = input.itemIds.slice(i, i + DELETE_GROUP);
        const gone = await Promise.all(
          group.map((itemId) => agent.deleteAgentConversation({ ...input.runtime, agentConversationId: agentConversationIdFor(itemId), keepTranscript: false })),
        );
        deleted += gone.filter(Boolean).length;
      }
      return { deleted };
    },
  };
}
