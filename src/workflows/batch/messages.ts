// The batch workflow's input, progress and per-item result, shared by the workflow, its
// activities and the batch client. A batch's items live in the batch store (pages of
// prompts written by the client), not in history: a 100,000-line file does not fit an
// input payload, and each run of the workflow only needs the pages it is working on.
import { defineQuery } from '@temporalio/workflow';
import type { SharedRuntimeBinding } from '../shared-runtime/messages.js';
import type { PolicyOverrides } from '../policy.js';
import type { ConversationPolicy } from '../state.js';

export const BATCH_PAGE_SIZE = 256;

export interface BatchSettings {
  readonly batchId: string;
  /** The user the conversations run as. */
  readonly userId: string;
  readonly total: number;
  /** Conversations running at once, at most. */
  readonly concurrency: number;
  /** Where the conversations live; unset = each its own runtime. */
  readonly runtime?: SharedRuntimeBinding;
  /** Attempts per item (a failed conversation is run again as a new one) before it is recorded failed. */
  readonly maxAttempts: number;
  /** Items started per run before the workflow continues as new, so its history stays bounded. */
  readonly continueAsNewEvery: number;
  /** What batches started before the deployment policy carried (the CLI's whole policy); no longer passed to items. */
  readonly policy?: Partial<ConversationPolicy>;
  /** Overrides of the deployment's policy for every item's conversation; the workers refuse any they do not allow. */
  readonly policyOverrides?: PolicyOverrides;
  /**
   * How an item runs: 'conversation', a conversation workflow of its own (any runtime; each
   * item visible in the UI); 'turn', one activity running the agent's turn on the batch's
   * shared runtime (no workflow per item: far cheaper at scale). Unset (batches started
   * before turns existed): 'conversation'.
   */
  readonly itemMode?: ItemMode;
}

export const ITEM_MODES = ['conversation', 'turn'] as const;
export type ItemMode = (typeof ITEM_MODES)[number];

export interface ItemResult {
  readonly index: number;
  readonly conversationId: string;
  readonly status: 'succeeded' | 'failed';
  /** The agent's last reply (null: none). */
  readonly reply: string | null;
  readonly error?: string;
  readonly attempts: number;
  /** From the first attempt's start to the result, every attempt and backoff included. */
  readonly durationMs: number;
}

export interface BatchProgress {
  readonly batchId: string;
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly running: number;
  /** Extra attempts made for items that failed once. */
  readonly retried: number;
  readonly startedAt: string;
  readonly finishedAt?: string;
  /** Runs of the workflow so far (it continues as new every `continueAsNewEvery` items). */
  readonly runs: number;
}

export const batchWorkflowId = (batchId: string) => `batch-${batchId}`;
/** The conversation of an item's attempt: the first keeps the plain ID, a retry is a new conversation. */
export const itemConversationId = (batchId: string, index: number, attempt: number) => (attempt === 1 ? `${batchId}-${index}` : `${batchId}-${index}-r${attempt}`);

export const batchProgressQuery = defineQuery<BatchProgress>('batchProgress');

export const BATCH_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
