// The batch against the real OpenHands agent server (one shared runtime running it, the
// scripted LLM): 16 items, 8 at a time, the worker SIGKILLed once mid-run and replaced.
// Checked: every item's reply in the results (in input order), 0 failed, and 0 agent
// conversations left on the server (its own count). The batch sets the server's
// max_concurrent_runs from its concurrency (8, over the local default of 4).
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchClient } from '../../src/batch/client.js';
import { BatchStore } from '../../src/batch/store.js';
import { openhandsVariant, startAgentStack } from '../support/agents.js';
import { agentConversationsOn } from '../support/shared-runtimes.js';
import { uniqueId } from '../support/temporal.js';
import { spawnWorker } from '../support/worker-process.js';
import type { WorkerProcess } from '../support/worker-process.js';

const ITEMS = 16;

describe('a batch on the real OpenHands agent server', () => {
  test(`${ITEMS} items, 8 at a time on one shared runtime, the worker SIGKILLed once: every reply in the results, 0 agent conversations left`, async (t) => {
    const setup = await startAgentStack(await openhandsVariant(), { noWorker: true });
    t.after(() => setup.close());
    const { stack, variant } = setup;
    const batchDir = path.join(stack.dataDir, 'batches');
    const workerSettings = {
      taskQueue: stack.temporal.taskQueue,
      runtimeApiUrl: stack.server.url,
      runtimeApiKey: stack.runtimeApiKey,
      env: { ...variant.workerEnv, BATCH_DIR: batchDir, SHARED_RUNTIME_IDLE_DELAY: '10m' },
    };
    let worker: WorkerProcess = await spawnWorker(workerSettings);
    t.after(() => worker.kill());
    const batches = new BatchClient({ client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, store: new BatchStore(batchDir) });
    const pool = uniqueId('oh-pool');
    const input = Array.from({ length: ITEMS }, (_, i) => JSON.stringify({ prompt: variant.ask(`echo item-${i}`) })).join('\n');
    const { batchId } = await batches.run({ input, batchId: uniqueId('oh-batch'), concurrency: 8, shared: pool });

    for (;;) {
      const progress = await batches.progress(batchId);
      if (progress.succeeded + progress.failed >= 5) break;
      await sleep(200);
    }
    await worker.kill('SIGKILL');
    worker = await spawnWorker(workerSettings);

    const final = await batches.result(batchId);
    const results = [];
    for await (const line of batches.results(batchId)) results.push(line as { index: number; status: string; reply: string | null; error?: string });
    assert.deepEqual({ succeeded: final.succeeded, failed: final.failed }, { succeeded: ITEMS, failed: 0 }, JSON.stringify(results.filter((r) => r.status !== 'succeeded')));
    results.forEach((r, i) => {
      assert.equal(r.index, i);
      assert.ok(r.reply !== null && variant.answers(r.reply, `item-${i}`), `item ${i}: ${r.reply}`);
    });
    assert.equal(await agentConversationsOn(stack.runtimeApi, pool), 0);
  });
});
