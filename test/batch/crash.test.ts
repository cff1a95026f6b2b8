// The batch test (BATCH_TEST_ITEMS=1000): items with the shell agent on one shared runtime, 64 at
// a time, started and read through the CLI, while the worker (the real `npm run worker`
// entry, a child process) is SIGKILLed twice mid-run and replaced. Checked: 0 items lost
// (every item's reply in `batch results`, in input order), 0 run twice (each command
// appends its item to one log in the runtime: exactly one line per item), and 0 agent
// conversations left on the runtime (the agent server's own count).
// In `npm test` it runs 200 items: 1,000 took 3 minutes on an idle machine and ran out of the
// 15-minute file timeout at load 20, and 200 still puts both kills mid-run.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchClient } from '../../src/batch/client.js';
import { BatchStore } from '../../src/batch/store.js';
import type { BatchProgress } from '../../src/workflows/batch/messages.js';
import { sharedSessionId } from '../../src/workflows/shared-runtime/messages.js';
import { runCli } from '../support/cli-process.js';
import { startConversationStack } from '../support/conversations.js';
import { agentConversationsOn, sharedRuntimeStatus } from '../support/shared-runtimes.js';
import { uniqueId } from '../support/temporal.js';
import { spawnWorker } from '../support/worker-process.js';
import type { WorkerProcess } from '../support/worker-process.js';

const ITEMS = Number(process.env.BATCH_TEST_ITEMS ?? 200);
const CONCURRENCY = 64;

describe('a batch survives its worker being SIGKILLed twice', () => {
  test(`${ITEMS} items, ${CONCURRENCY} at a time, one shared runtime: 0 lost, 0 run twice, every reply in the results, 0 agent conversations left`, async (t) => {
    const stack = await startConversationStack({ noWorker: true });
    t.after(() => stack.close());
    const batchDir = path.join(stack.dataDir, 'batches');
    const env = {
      ...process.env,
      TEMPORAL_TASK_QUEUE: stack.temporal.taskQueue,
      RUNTIME_API_URL: stack.server.url,
      RUNTIME_API_KEY: stack.runtimeApiKey,
      BATCH_DIR: batchDir,
      SHARED_RUNTIME_IDLE_DELAY: '10m',
      LOG_LEVEL: 'error',
    };
    const workerSettings = { taskQueue: stack.temporal.taskQueue, runtimeApiUrl: stack.server.url, runtimeApiKey: stack.runtimeApiKey, env: { BATCH_DIR: batchDir, SHARED_RUNTIME_IDLE_DELAY: '10m' } };
    let worker: WorkerProcess = await spawnWorker(workerSettings);
    t.after(() => worker.kill());

    const pool = uniqueId('pool');
    const batchId = uniqueId('crash');
    const input = path.join(stack.dataDir, 'prompts.jsonl');
    // `..` is the runtime's own folder, above every conversation's: one log for all of them.
    await writeFile(input, Array.from({ length: ITEMS }, (_, i) => JSON.stringify({ prompt: `echo item-${i} | tee -a ../ran.log` })).join('\n'));
    const started = await runCli(['batch', 'run', input, '--concurrency', String(CONCURRENCY), '--shared', pool, '--id', batchId, '--detach'], env);
    assert.equal(started.code, 0, started.stderr);

    const batches = new BatchClient({ client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, store: new BatchStore(batchDir) });
    const kills: number[] = [];
    for (const fraction of [0.25, 0.6]) {
      const seen = await untilDone(batches, batchId, Math.floor(ITEMS * fraction));
      kills.push(seen.succeeded + seen.failed);
      await worker.kill('SIGKILL');
      worker = await spawnWorker(workerSettings);
    }
    const final = await batches.result(batchId);
    t.diagnostic(`killed at ${kills.join(' and ')} done; ${final.runs} workflow runs; ${final.retried} retries`);
    assert.deepEqual({ succeeded: final.succeeded, failed: final.failed }, { succeeded: ITEMS, failed: 0 });

    const results = await runCli(['batch', 'results', batchId], env);
    assert.equal(results.code, 0, results.stderr);
    const lines = results.stdout.trim().split('\n').map((line) => JSON.parse(line) as { index: number; status: string; reply: string });
    assert.equal(lines.length, ITEMS);
    lines.forEach((line, i) => {
      assert.equal(line.index, i);
      assert.equal(line.status, 'succeeded');
      assert.equal(line.reply, `item-${i}\n`);
    });

    const ran = (await readFile(path.join(stack.dataDir, 'workspaces', sharedSessionId(pool), 'ran.log'), 'utf8')).trim().split('\n');
    const counts = new Map<string, number>();
    for (const item of ran) counts.set(item, (counts.get(item) ?? 0) + 1);
    assert.equal(counts.size, ITEMS, 'every item ran');
    assert.deepEqual([...counts].filter(([, n]) => n !== 1), [], 'no item ran twice');
    assert.equal(await agentConversationsOn(stack.runtimeApi, pool), 0);
    const owner = await sharedRuntimeStatus(stack.temporal.client, stack.temporal.taskQueue, pool);
    assert.deepEqual({ users: owner.users, replaced: owner.replaced }, { users: 0, replaced: 0 });
  });
});

async function untilDone(batches: BatchClient, batchId: string, done: number): Promise<BatchProgress> {
  for (;;) {
    const progress = await batches.progress(batchId).catch(() => undefined);
    if (progress && progress.succeeded + progress.failed >= done) return progress;
    await sleep(200);
  }
}
