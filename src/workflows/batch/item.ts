// One batch item: its prompt run as a conversation (a child workflow) that closes itself
// once the agent's turn has ended and returns the agent's last reply. A conversation
// that fails (provisioning, a runtime lost for good) or whose turn did not end well is
// run again as a new conversation, up to `maxAttempts`; then the failure is recorded,
// never dropped.
import { executeChild, sleep } from '@temporalio/workflow';
import type { ConversationResult, conversationWorkflow } from '../conversation.js';
import { ConversationErrorType } from '../../failure-types.js';
import { describeFailure } from '../status.js';
import { itemConversationId } from './messages.js';
import type { BatchSettings, ItemResult } from './messages.js';

/** Grows with each attempt, so a runtime in trouble gets a moment before the next try. */
export const RETRY_BACKOFF_MS = 2_000;

export async function runItem(settings: BatchSettings, index: number, prompt: string, onRetry: () => void): Promise<ItemResult> {
  const startedAt = Date.now();
  let error = 'not run';
  for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
    if (attempt > 1) {
      onRetry();
      await sleep(RETRY_BACKOFF_MS * (attempt - 1));
    }
    const conversationId = itemConversationId(settings.batchId, index, attempt);
    try {
      const result = await executeChild<typeof conversationWorkflow>('conversationWorkflow', {
        workflowId: conversationId,
        args: [
          {
            conversationId,
            userId: settings.userId,
            // The deployment's policy applies, with the batch's allowed overrides; a batch from before keeps its items on the deployment's too.
            ...(settings.policyOverrides && { policyOverrides: settings.policyOverrides }),
            ...(settings.runtime && { runtime: settings.runtime }),
            message: { messageId: `item-${index}`, text: prompt },
            closeAfterReply: true,
          },
        ],
        staticSummary: `batch ${settings.batchId} item ${index}`,
      });
      const problem = problemOf(result);
      if (!problem) return { index, conversationId, status: 'succeeded', reply: result.reply ?? null, attempts: attempt, durationMs: Date.now() - startedAt };
      error = problem;
    } catch (failure) {
      const described = describeFailure(failure);
      error = `${described.type}: ${described.message}`;
      // The deployment refuses the batch's overrides every time: another attempt would only wait.
      if (described.type === ConversationErrorType.PolicyOverrideRefused) return failed(settings, index, attempt, error, startedAt);
    }
  }
  return failed(settings, index, settings.maxAttempts, error, startedAt);
}

function failed(settings: BatchSettings, index: number, attempts: number, error: string, startedAt: number): ItemResult {
  return { index, conversationId: itemConversationId(settings.batchId, index, attempts), status: 'failed', reply: null, error, attempts, durationMs: Date.now() - startedAt };
}

/** Why a conversation that ended normally still did not answer its prompt, if it did not. */
function problemOf(result: ConversationResult): string | undefined {
  const { info } = result;
  if (info.refused > 0) return `refused by ${info.lastRefused?.by === 'deployment' ? 'the deployment' : 'the agent server'}: ${info.lastRefused?.reason ?? ''}`;
  if (result.undelivered > 0) return `the prompt was not delivered (conversation ${info.status})`;
  const status = info.lastTurn?.executionStatus;
  if (status !== 'finished') return `the agent's turn ended ${status ?? 'without a status'}${info.lastError ? ` (${info.lastError.message})` : ''}`;
  return undefined;
}
