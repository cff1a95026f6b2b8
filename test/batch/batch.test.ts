// A batch run in process against real parts (a local Runtime API with process sandboxes,
// the shell agent, one shared runtime): every item's reply in the results in input
// order, the workflow continuing as new along the way, a failing item retried and then
// recorded failed, progress as the query reports it, nothing left on the runtime; and
// bad input refused at the edge with its line number.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { BatchClient } from '../../src/batch/client.js';
import { BatchStore } from '../../src/batch/store.js';
import { InvalidInputError } from '../../src/client.js';
import { agentConversationIdFor } from '../../src/activities/index.js';
import { itemConversationId } from '../../src/workflows/batch/messages.js';
import { shellVariant, startAgentStack } from '../support/agents.js';
import { startConversationStack } from '../support/conversations.js';
import { agentConversationsOn } from '../support/shared-runtimes.js';
import { uniqueId } from '../support/temporal.js';

const jsonl = (prompts: string[]) => prompts.map((prompt) => JSON.stringify({ prompt })).join('\n') + '\n';

describe('a batch', () => {
  test('20 items, 6 at a time on one shared runtime, continuing as new every 7: every reply in order, a failing item retried then recorded, 0 agent conversations left', async (t) => {
    const batchId = uniqueId('b');
    // The agent server refuses item 13's prompt (413) at both attempts: retried, then recorded failed.
    const refused = [itemConversationId(batchId, 13, 1), itemConversationId(batchId, 13, 2)].map((id) => `/api/conversations/${agentConversationIdFor(id)}/events`);
    const { stack, close } = await startAgentStack(shellVariant(), { rules: [{ matches: (method, p) => method === 'POST' && refused.some((suffix) => p.endsWith(suffix)), action: 'refuse', status: 413, times: 2 }] });
    t.after(close);
    const batches = new BatchClient({ client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, store: new BatchStore(path.join(stack.dataDir, 'batches')) });
    const pool = uniqueId('pool');
    const prompts = Array.from({ length: 20 }, (_, i) => `echo item-${i}`);
    const run = await batches.run({ input: jsonl(prompts), batchId, concurrency: 6, shared: pool, continueAsNewEvery: 7, maxAttempts: 2 });
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

  test('bad input is refused at the edge, naming the line', async (t) => {
    const stack = await startConversationStack({ noWorker: true });
    t.after(() => stack.close());
    const batches = new BatchClient({ client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, store: new BatchStore(path.join(stack.dataDir, 'batches')) });
    await assert.rejects(batches.run({ input: '{"prompt":"a"}\n{"text":"b"}\n' }), (e: unknown) => e instanceof InvalidInputError && /line 2: prompt/.test(e.message));
    await assert.rejects(batches.run({ input: '{"prompt":"a"}\nnot json\n' }), /line 2: not JSON/);
    await assert.rejects(batches.run({ input: '\n' }), /no items/);
    await assert.rejects(batches.run({ input: '{"prompt":"a"}', concurrency: 0 }), /concurrency/);
    await assert.rejects(batches.run({ input: '{"prompt":"a"}', runtimes: 2 }), /--shared/);
  });
});
