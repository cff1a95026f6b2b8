// BatchClient: starts a batch (or attaches to the one already running under its ID),
// reads its progress and writes its results in input order. The input is validated
// and written to the batch store before the workflow starts, so the workflow only ever
// sees a complete, checked batch. Re-running the same input attaches to the same batch:
// its ID defaults to a digest of the input.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { ServiceError, WorkflowExecutionAlreadyStartedError, isGrpcServiceError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { GRPC } from '../client-errors.js';
import { workflowTaskTrouble } from '../temporal/workflow-task-trouble.js';
import { InvalidInputError, validateUserId } from '../workflows/validation.js';
import type { batchWorkflow } from '../workflows/batch/workflow.js';
import { BATCH_ID_PATTERN, batchProgressQuery, batchWorkflowId } from '../workflows/batch/messages.js';
import { ITEM_MODES } from '../workflows/batch/messages.js';
import type { BatchProgress, BatchSettings, ItemMode, ItemResult } from '../workflows/batch/messages.js';
import { validateSharedRuntimeBinding } from '../workflows/shared-runtime/messages.js';
import { validatePolicyOverrides } from '../workflows/policy.js';
import type { PolicyOverrides } from '../workflows/policy.js';
import { BATCH_DEFAULTS, MAX_BATCH_CONCURRENCY, sharedBindingFor } from './defaults.js';
import { parseBatchInput } from './input.js';
import type { BatchStore } from './store.js';

export interface BatchRunOptions {
  /** The input: one JSON object with a "prompt" per line. */
  readonly input: string;
  /** @default `b-` and the first 16 hex digits of the input's sha256 */
  readonly batchId?: string;
  /** @default BATCH_DEFAULTS.userId */
  readonly userId?: string;
  /** @default BATCH_DEFAULTS.concurrency */
  readonly concurrency?: number;
  /** Run every conversation on this shared runtime pool instead of a runtime each. */
  readonly shared?: string;
  /** Runtimes in the shared pool. @default 1 */
  readonly runtimes?: number;
  /** @default BATCH_DEFAULTS.maxAttempts */
  readonly maxAttempts?: number;
  /** @default BATCH_DEFAULTS.continueAsNewEvery */
  readonly continueAsNewEvery?: number;
  /** Overrides of the deployment's policy for every item; the workers refuse a setting they do not allow (the item fails, saying so). */
  readonly policyOverrides?: PolicyOverrides;
  /** @default 'turn' on a shared pool (one activity per item), else 'conversation' (a workflow per item) */
  readonly itemMode?: ItemMode;
}

export interface BatchClientOptions {
  readonly client: Client;
  readonly taskQueue: string;
  readonly store: BatchStore;
}

export class BatchClient {
  constructor(private readonly options: BatchClientOptions) {}

  /** Starts the batch, or attaches to it if it runs or ran under this ID with the same input. */
  async run(options: BatchRunOptions): Promise<{ batchId: string; attached: boolean; total: number }> {
    // A prompt over the deployment's limit (which only the workers know) fails its item, saying so.
    const input = parseBatchInput(options.input, validatePolicyOverrides(options.policyOverrides).maxMessageBytes);
    const batchId = validateBatchId(options.batchId ?? `b-${input.digest.slice(0, 16)}`);
    const settings = settingsFrom(batchId, input.prompts.length, options);
    const existing = await this.options.store.manifest(batchId);
    if (existing && existing.inputDigest !== input.digest) {
      throw new InvalidInputError('batchId', `batch ${batchId} already exists with another input; give another --id`);
    }
    if (!existing) await this.options.store.create({ settings, inputDigest: input.digest, createdAt: new Date().toISOString() }, input.prompts);
    // The batch as first started wins: a second run with other options attaches to it.
    const started = existing?.settings ?? settings;
    try {
      await this.options.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
        workflowId: batchWorkflowId(batchId),
        taskQueue: this.options.taskQueue,
        args: [started],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // A worker that lost the batch from its cache replays the whole run in one workflow task:
        // a run of thousands of items takes seconds, over the default 10 s on a loaded machine,
        // and a task that times out is replayed again, and again. Runs that continue as new keep it.
        workflowTaskTimeout: BATCH_WORKFLOW_TASK_TIMEOUT,
        staticSummary: `batch ${batchId}: ${started.total} items, ${started.concurrency} at a time`,
      });
    } catch (error) {
      // It ran to its end before: attach to what it left.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      return { batchId, attached: true, total: started.total };
    }
    return { batchId, attached: existing !== undefined, total: started.total };
  }

  /** The batch's progress (a query; a finished batch answers from its last state). */
  async progress(batchId: string): Promise<BatchProgress> {
    const handle = this.options.client.workflow.getHandle(batchWorkflowId(validateBatchId(batchId)));
    for (let attempt = 1; ; attempt++) {
      try {
        return await handle.query(batchProgressQuery);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw new InvalidInputError('batchId', `no batch ${batchId} on this Temporal namespace`);
        // A worker busy with a large batch (or being replaced) may not answer a query in time; that passes.
        // A workflow task that failed or timed out is being tried again: the next attempt may well pass.
        const code = grpcCode(error);
        if (code === GRPC.FAILED_PRECONDITION) {
          if (attempt >= QUERY_ATTEMPTS) throw await this.#stuck(batchId, error);
          await sleep(STUCK_RETRY_MS);
          continue;
        }
        if (code !== GRPC.DEADLINE_EXCEEDED) throw error;
        if (attempt >= QUERY_ATTEMPTS) throw new BatchQueryTimeoutError(`no worker answered batch ${batchId}'s progress query in time, ${QUERY_ATTEMPTS} times: are the workers of task queue ${this.options.taskQueue} running (and not overloaded)?`);
      }
    }
  }

  /** Why the batch's workflow cannot answer: its last workflow task failure or timeout, read from its history. */
  async #stuck(batchId: string, error: unknown): Promise<Error> {
    const cause = (await workflowTaskTrouble(this.options.client, batchWorkflowId(batchId))) ?? 'its workflow task fails (see the worker\'s log)';
    return new BatchWorkflowStuckError(`batch ${batchId} cannot make progress: ${cause}. Nothing is lost: the workflow carries on from its history once a worker can run it (fix the cause and restart the workers of task queue ${this.options.taskQueue}).`, { cause: error });
  }

  /** Waits for the batch to end; its final progress. */
  async result(batchId: string): Promise<BatchProgress> {
    return this.options.client.workflow.getHandle<typeof batchWorkflow>(batchWorkflowId(validateBatchId(batchId))).result();
  }

  /** One line per item, in input order; an item without a result yet is `pending`. */
  async *results(batchId: string): AsyncGenerator<ItemResult | { index: number; status: 'pending' }> {
    const manifest = await this.options.store.manifest(validateBatchId(batchId));
    if (!manifest) throw new InvalidInputError('batchId', `no batch ${batchId} in the batch store ${this.options.store.root}`);
    const results = await this.options.store.results(batchId);
    for (let index = 0; index < manifest.settings.total; index++) yield results.get(index) ?? { index, status: 'pending' };
  }
}

const QUERY_ATTEMPTS = 3;

export const BATCH_WORKFLOW_TASK_TIMEOUT = '60s';

/** Between queries to a batch whose workflow task is being retried. */
const STUCK_RETRY_MS = 5_000;

export class BatchQueryTimeoutError extends Error {
  override readonly name = 'BatchQueryTimeoutError';
}

/** A batch whose workflow task keeps failing: a query cannot be answered until a worker can run it. */
export class BatchWorkflowStuckError extends Error {
  override readonly name = 'BatchWorkflowStuckError';
}

/** The gRPC status of a failed call: DEADLINE_EXCEEDED when no worker took a query in time, FAILED_PRECONDITION when the workflow task is failing. */
function grpcCode(error: unknown): number | undefined {
  const cause = error instanceof ServiceError ? error.cause : error;
  return isGrpcServiceError(cause) ? cause.code : undefined;
}

function settingsFrom(batchId: string, total: number, options: BatchRunOptions): BatchSettings {
  const concurrency = whole('concurrency', options.concurrency ?? BATCH_DEFAULTS.concurrency, 1, MAX_BATCH_CONCURRENCY);
  const runtimes = whole('runtimes', options.runtimes ?? 1, 1, 64);
  if (options.runtimes !== undefined && options.shared === undefined) throw new InvalidInputError('runtimes', '--runtimes needs --shared <pool>');
  const itemMode = options.itemMode ?? (options.shared === undefined ? 'conversation' : 'turn');
  if (!(ITEM_MODES as readonly string[]).includes(itemMode)) throw new InvalidInputError('itemMode', `invalid item mode ${JSON.stringify(itemMode)}: use ${ITEM_MODES.join(' or ')}`);
  if (itemMode === 'turn' && options.shared === undefined) throw new InvalidInputError('itemMode', 'item mode "turn" runs items on a shared runtime: give --shared <pool>');
  return {
    batchId,
    userId: validateUserId(options.userId ?? BATCH_DEFAULTS.userId),
    total,
    concurrency,
    ...(options.shared !== undefined && { runtime: validateSharedRuntimeBinding(sharedBindingFor(options.shared, runtimes, concurrency)) }),
    maxAttempts: whole('maxAttempts', options.maxAttempts ?? BATCH_DEFAULTS.maxAttempts, 1, 100),
    continueAsNewEvery: whole('continueAsNewEvery', options.continueAsNewEvery ?? BATCH_DEFAULTS.continueAsNewEvery, 1, 100_000),
    ...(options.policyOverrides && Object.keys(options.policyOverrides).length > 0 && { policyOverrides: validatePolicyOverrides(options.policyOverrides) }),
    itemMode,
  };
}

export function validateBatchId(batchId: unknown): string {
  if (typeof batchId !== 'string' || !BATCH_ID_PATTERN.test(batchId)) {
    throw new InvalidInputError('batchId', `invalid batch ID ${JSON.stringify(batchId)}: use 1-64 characters of letters, digits, '.', '_' or '-'`);
  }
  return batchId;
}

function whole(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new InvalidInputError(field, `invalid ${field} ${JSON.stringify(value)}: use a whole number from ${min} to ${max}`);
  return value;
}
