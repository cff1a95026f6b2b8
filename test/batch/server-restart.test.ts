// A batch survives its Temporal server being SIGKILLed mid-run and started again on the
// same SQLite file, as `npm start` runs it: the batch and its items carry on where the
// server's database left them. The worker is the real `npm run worker` entry; if it gave
// up while the server was away, it is started again, as a supervisor would. Checked: every
// item succeeded once, with its reply, `batch status` through the CLI attaches to the same
// batch afterwards, and no agent conversation is left on the runtime.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchClient } from '../../src/batch/client.js';
import { BatchStore } from '../../src/batch/store.js';
import { freePort, startDevServer } from '../../src/temporal/dev-server.js';
import type { RunningDevServer } from '../../src/temporal/dev-server.js';
import { EMBEDDED_DYNAMIC_CONFIG, projectRoot, toolsDir } from '../../src/temporal/server.js';
import { TEMPORAL_CLI, projectInstallPath } from '../../src/temporal/tool-resolver.js';
import type { BatchProgress } from '../../src/workflows/batch/messages.js';
import { projectSearchAttributes } from '../../src/workflows/search-attributes.js';
import { sharedSessionId } from '../../src/workflows/shared-runtime/messages.js';
import { runCli } from '../support/cli-process.js';
import { startConversationStack } from '../support/conversations.js';
import { agentConversationsOn } from '../support/shared-runtimes.js';
import { uniqueId } from '../support/temporal.js';
import { spawnWorker } from '../support/worker-process.js';
import type { WorkerProcess } from '../support/worker-process.js';

const ITEMS = 40;
const CONCURRENCY = 8;

describe('a batch survives its Temporal server being SIGKILLed', () => {
  test(`${ITEMS} items, ${CONCURRENCY} at a time: the server killed mid-run and started again on its database; every item done once, with its reply`, async (t) => {
    const port = await freePort();
    const serverOptions = {
      executable: projectInstallPath(TEMPORAL_CLI, toolsDir(projectRoot)),
      port,
      searchAttributes: projectSearchAttributes,
      dynamicConfig: EMBEDDED_DYNAMIC_CONFIG,
    };
    const scratch = await mkdtemp(path.join(tmpdir(), 'dc-batch-server-'));
    const dbFile = path.join(scratch, 'temporal.sqlite');
    let server: RunningDevServer = await startDevServer({ ...serverOptions, dbFile });
    const stack = await startConversationStack({ noWorker: true, address: server.address });

    const batchDir = path.join(stack.dataDir, 'batches');
    const workerSettings = {
      taskQueue: stack.temporal.taskQueue,
      runtimeApiUrl: stack.server.url,
      runtimeApiKey: stack.runtimeApiKey,
      env: { TEMPORAL_ADDRESS: server.address, BATCH_DIR: batchDir, SHARED_RUNTIME_IDLE_DELAY: '10m' },
    };
    let worker: WorkerProcess = await spawnWorker(workerSettings);
    // One teardown, in order: the worker, the stack, the server, then its database.
    t.after(async () => {
      await worker.kill();
      await stack.close();
      await server.stop();
      await rm(scratch, { recursive: true, force: true });
    });

    const pool = uniqueId('pool');
    const input = Array.from({ length: ITEMS }, (_, i) => JSON.stringify({ prompt: `echo item-${i} | tee -a ../ran.log` })).join('\n');
    const batches = new BatchClient({ client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, store: new BatchStore(batchDir) });
    const { batchId } = await batches.run({ input, concurrency: CONCURRENCY, shared: pool });

    let workersReplaced = 0;
    const replaceWorkerIfGone = async () => {
      if (worker.process.exitCode === null && worker.process.signalCode === null) return;
      workersReplaced++;
      worker = await spawnWorker(workerSettings);
    };
    const before = await untilDone(batches, batchId, ITEMS / 4);
    // The server runs under a tether that leads its process group: the group is the whole server.
    process.kill(-(server.pid as number), 'SIGKILL');
    await sleep(2_000);
    server = await startDevServer({ ...serverOptions, dbFile });
    // A worker that gave up polling while the server was away is replaced, as a supervisor would.
    await replaceWorkerIfGone();

    const final = await untilFinished(batches, batchId, replaceWorkerIfGone);
    t.diagnostic(`server killed at ${before.succeeded + before.failed} done; workers replaced: ${workersReplaced}; ${final.retried} retries; ${final.runs} workflow runs`);
    assert.deepEqual({ succeeded: final.succeeded, failed: final.failed }, { succeeded: ITEMS, failed: 0 });

    const env = { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_TASK_QUEUE: stack.temporal.taskQueue, BATCH_DIR: batchDir, LOG_LEVEL: 'error' };
    const status = await runCli(['batch', 'status', batchId], env);
    assert.equal(status.code, 0, status.stderr);
    const shown = JSON.parse(status.stdout) as BatchProgress;
    assert.deepEqual({ batchId: shown.batchId, succeeded: shown.succeeded, failed: shown.failed }, { batchId, succeeded: ITEMS, failed: 0 });

    const results = [];
    for await (const line of batches.results(batchId)) results.push(line);
    assert.equal(results.length, ITEMS);
    results.forEach((result, i) => {
      assert.equal(result.index, i);
      assert.ok('reply' in result, `item ${i} has a result`);
      assert.equal(result.reply, `item-${i}\n`);
    });
    const ran = (await readFile(path.join(stack.dataDir, 'workspaces', sharedSessionId(pool), 'ran.log'), 'utf8')).trim().split('\n');
    assert.equal(new Set(ran).size, ITEMS, 'every item ran');
    assert.equal(ran.length, ITEMS, 'no item ran twice');
    assert.equal(await agentConversationsOn(stack.runtimeApi, pool), 0);
  });
});

async function untilDone(batches: BatchClient, batchId: string, done: number): Promise<BatchProgress> {
  for (;;) {
    const progress = await batches.progress(batchId).catch(() => undefined);
    if (progress && progress.succeeded + progress.failed >= done) return progress;
    await sleep(200);
  }
}

/** Waits for the batch's end, reading through the server's return; `check` runs between reads. */
async function untilFinished(batches: BatchClient, batchId: string, check: () => Promise<void>): Promise<BatchProgress> {
  for (;;) {
    const progress = await batches.progress(batchId).catch(() => undefined);
    if (progress?.finishedAt) return progress;
    await check();
    await sleep(1_000);
  }
}
