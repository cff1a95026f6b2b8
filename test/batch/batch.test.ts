// A batch run in process against real parts (a local Runtime API with process sandboxes,
// the shell agent, one shared runtime), in both item modes (a turn per item, a
// conversation per item): every item's reply in the results in input order, the workflow
// continuing as new along the way, a failing item retried and then recorded failed,
// progress as the query reports it, nothing left on the runtime; a shared runtime lost
// mid-batch replaced once for every item on it; and bad input refused at the edge with
// its line number.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchClient, BatchWorkflowStuckError } from '../../src/batch/client.js';
import { BatchStore } from '../../src/batch/store.js';
import { InvalidInputError } from '../../src/client.js';
import { agentConversationIdFor } from '../../src/activities/index.js';
import { ITEM_MODES, batchWorkflowId, itemConversationId } from '../../src/workflows/batch/messages.js';
import type { BatchSettings } from '../../src/workflows/batch/messages.js';
import { sharedSessionId } from '../../src/workflows/shared-runtime/messages.js';
import { shellVariant, startAgentStack } from '../support/agents.js';
import { startConversationStack } from '../support/conversations.js';
import { agentConversationsOn, sharedRuntimeStatus } from '../support/shared-runtimes.js';
import { uniqueId } from '../support/temporal.js';

const jsonl = (prompts: string[]) => prompts.map((prompt) => JSON.stringify({ prompt })).join('\n') + '\n';

describe('a batch', () => {
  for (const itemMode of ITEM_MODES) test(`20 items as ${itemMode}s, 6 at a time on one shared runtime, continuing as new every 7: every reply in order, a failing item retried then recorded, 0 agent conversations left`, async (t) => {
    const batchId = uniqueId('b');
    // The agent server refuses item 13's prompt (413) at both attempts: retried, then recorded failed.
    const refused = [itemConversationId(batchId, 13, 1), itemConversationId(batchId, 13, 2)].map((id) => `/api/conversations/${agentConversationIdFor(id)}/events`);
    const { stack, close } = await startAgentStack(shellVariant(), { rules: [{ matches: (method, p) => method === 'POST' && refused.some((suffix) => p.endsWith(suffix)), action: 'refuse', status: 413, times: 2 }] });
    t.after(close);
    const batches = new BatchClient({ client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, store: new BatchStore(path.join(stack.dataDir, 'batches')) });
    const pool = uniqueId('pool');
    const prompts = Array.from({ length: 20 }, (_, i) => `echo item-${i}`);
    const run = await batches.run({ input: jsonl(prompts), batchId, concurrency: 6, shared: pool, continueAsNewEvery: 7, maxAttempts: 2, itemMode });
    assert.equal(run.attached, false);
    const again = await batches.run({ input: jsonl(prompts), batchId: run.batchId, concurrency: 6, shared: pool });
    assert.equal(again.attached, true, 're-running attaches');
    const final = await batches.result(run.batchId);
    assert.equal(final.total, 20);
    assert.ok(final.runs >= 3, `continued as new: ${final.runs} runs`);
    const results = [];
    for await (const line of batches.results(run.batchId)) results.push(line);
    assert.deepEqual(results.map((r) => r.index), [...prompts.keys()]);
    const failed = results.filter((r) => r.status !== 'succeeded');
    assert.deepEqual(failed.map((r) => r.index), [13], JSON.stringify(failed));
    assert.equal((failed[0] as { attempts: number }).attempts, 2);
    assert.match((failed[0] as { error: string }).error, /refused by the agent server/);
    for (const r of results) if (r.index !== 13) assert.equal((r as { reply: string }).reply, `item-${r.index}\n`);
    assert.deepEqual({ succeeded: final.succeeded, failed: final.failed, retried: final.retried, running: final.running }, { succeeded: 19, failed: 1, retried: 1, running: 0 });
    assert.deepEqual(await batches.progress(run.batchId), final);
    assert.equal(await agentConversationsOn(stack.runtimeApi, pool), 0);
  });

  test('a shared runtime lost mid-batch is replaced once, and every item on it runs again there and succeeds', async (t) => {
    const stack = await startConversationStack({ sharedRuntime: { idleDelayMs: 60_000 } });
    t.after(() => stack.close());
    const batches = new BatchClient({ client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, store: new BatchStore(path.join(stack.dataDir, 'batches')) });
    const pool = uniqueId('pool');
    // Each turn lasts a second, so items are in flight on the runtime when it goes.
    const prompts = Array.from({ length: 24 }, (_, i) => `sleep 1; echo item-${i}`);
    const { batchId } = await batches.run({ input: jsonl(prompts), batchId: uniqueId('lost'), concurrency: 8, shared: pool });
    for (;;) {
      const progress = await batches.progress(batchId);
      if (progress.succeeded >= 4 && progress.running > 0) break;
      await sleep(100);
    }
    const lost = (await stack.runtimeApi.getSession(sharedSessionId(pool)))?.runtime_id as string;
    await stack.runtimeApi.stop(lost);
    const final = await batches.result(batchId);
    const results = [];
    for await (const line of batches.results(batchId)) results.push(line as { index: number; status: string; reply: string | null });
    assert.deepEqual({ succeeded: final.succeeded, failed: final.failed }, { succeeded: 24, failed: 0 }, JSON.stringify(results.filter((r) => r.status !== 'succeeded')));
    results.forEach((r, i) => assert.equal(r.reply, `item-${i}\n`));
    assert.ok(final.retried > 0, 'the items in flight on the lost runtime ran again');
    const owner = await sharedRuntimeStatus(stack.temporal.client, stack.temporal.taskQueue, pool);
    assert.deepEqual({ replaced: owner.replaced, users: owner.users }, { replaced: 1, users: 0 }, 'one replacement for all; the batch detached at its end');
    assert.notEqual((await stack.runtimeApi.getSession(sharedSessionId(pool)))?.runtime_id, lost);
    assert.equal(await agentConversationsOn(stack.runtimeApi, pool), 0);
  });

  test('a turn whose prompt is over the deployment\'s message limit is recorded refused at its first attempt; the others run', async (t) => {
    const stack = await startConversationStack({ policy: { maxMessageBytes: 64 } });
    t.after(() => stack.close());
    const batches = new BatchClient({ client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, store: new BatchStore(path.join(stack.dataDir, 'batches')) });
    const { batchId } = await batches.run({ input: jsonl(['echo small', `echo ${'x'.repeat(100)}`]), batchId: uniqueId('limit'), shared: uniqueId('pool'), maxAttempts: 3 });
    const final = await batches.result(batchId);
    const results = [];
    for await (const line of batches.results(batchId)) results.push(line as { status: string; error?: string; attempts: number; reply: string | null });
    assert.deepEqual({ succeeded: final.succeeded, failed: final.failed, retried: final.retried }, { succeeded: 1, failed: 1, retried: 0 });
    assert.equal(results[0]?.reply, 'small\n');
    assert.equal(results[1]?.attempts, 1);
    assert.match(results[1]?.error ?? '', /refused by the deployment: the prompt is 105 bytes, over its limit of 64 \(MESSAGE_MAX_BYTES\)/);
  });

  test('a batch whose workflow task keeps failing: its status says so, naming the failure, instead of a bare "failed state"', async (t) => {
    const stack = await startConversationStack();
    t.after(() => stack.close());
    const batches = new BatchClient({ client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, store: new BatchStore(path.join(stack.dataDir, 'batches')) });
    // Started past the client's checks: turn items without a shared runtime throw in the workflow's first task, at every attempt.
    const batchId = uniqueId('stuck');
    const settings: BatchSettings = { batchId, userId: 'u', total: 1, concurrency: 1, maxAttempts: 1, continueAsNewEvery: 10, itemMode: 'turn' };
    const handle = await stack.temporal.client.workflow.start('batchWorkflow', { workflowId: batchWorkflowId(batchId), taskQueue: stack.temporal.taskQueue, args: [settings] });
    t.after(() => handle.terminate().catch(() => undefined));
    await assert.rejects(batches.progress(batchId), (error: Error) => {
      assert.ok(error instanceof BatchWorkflowStuckError, String(error));
      assert.match(error.message, new RegExp(`batch ${batchId} cannot make progress: its workflow task fails: turn items need a shared runtime`));
      assert.match(error.message, new RegExp(`task queue ${stack.temporal.taskQueue}`));
      return true;
    });
  });

  test('bad input is refused at the edge, naming the line', async (t) => {
    const stack = await startConversationStack({ noWorker: true });
    t.after(() => stack.close());
    const batches = new BatchClient({ client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, store: new BatchStore(path.join(stack.dataDir, 'batches')) });
    await assert.rejects(batches.run({ input: '{"prompt":"a"}\n{"text":"b"}\n' }), (e: unknown) => e instanceof InvalidInputError && /line 2: prompt/.test(e.message));
    await assert.rejects(batches.run({ input: '{"prompt":"a"}\nnot json\n' }), /line 2: not JSON/);
    await assert.rejects(batches.run({ input: '\n' }), /no items/);
    await assert.rejects(batches.run({ input: '{"prompt":"a"}', concurrency: 0 }), /concurrency/);
    await assert.rejects(batches.run({ input: '{"prompt":"a"}', runtimes: 2 }), /--shared/);
    await assert.rejects(batches.run({ input: '{"prompt":"a"}', itemMode: 'turn' }), /item mode "turn" runs items on a shared runtime/);
    await assert.rejects(batches.run({ input: '{"prompt":"a"}', shared: 'p', itemMode: 'step' as never }), /invalid item mode "step"/);
  });
});
