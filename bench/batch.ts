// Benchmark of a large batch on one shared runtime, end to end on one machine: a private
// in-memory Temporal dev server (as `npm start` runs it), the local Runtime API with a
// real process sandbox running the shell agent, and the worker in a child process of its
// own (so its memory is its own). In one run it measures:
//   1. the same number of empty workflows (healthCheckWorkflow), CONCURRENCY at a time from
//      the client: the server's and worker's floor for this many executions;
//   2. batches of each size in SIZES (one JSON line per item, `echo`), CONCURRENCY at a time
//      on one shared runtime: items/s, per-item cost, p50/p99 item latency, worker and
//      runtime RSS before and after, open files in the runtime, failures and agent
//      conversations left on the runtime.
// Items run as turns (one activity each, the default on a shared runtime); ITEM_MODE=conversation
// runs each as a conversation workflow instead.
// Run: npm run bench -- batch   (SIZES=1000,20000 CONCURRENCY=128 ITEM_MODE=… to change; default 1000,5000)
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { BatchClient, BatchWorkflowStuckError } from '../src/batch/client.js';
import { BatchStore } from '../src/batch/store.js';
import { createRuntimeApiServer } from '../src/local-runtime/server.js';
import type { RuntimeApiServer } from '../src/local-runtime/server.js';
import { RuntimeApiClient } from '../src/runtime-api/index.js';
import { EMBEDDED_DYNAMIC_CONFIG } from '../src/temporal/server.js';
import type { BatchProgress, ItemMode, ItemResult } from '../src/workflows/batch/messages.js';
import { sharedSessionId } from '../src/workflows/shared-runtime/messages.js';
import { testDataConverter } from '../test/support/codec.js';
import { agentConversationsOn } from '../test/support/shared-runtimes.js';
import { perItem, readCpu } from './support/process-cpu.js';
import { processGroup, runtimeProcesses, treeMemory } from './support/process-memory.js';
import { buildBundle, startTemporal } from './support/setup.js';
import { mapLimit, mb, percentile, table } from './support/stats.js';
import { startChildWorker } from './support/worker-host.js';

const SIZES = (process.env.SIZES ?? '1000,5000').split(',').map(Number);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 128);
const ITEM_MODE = (process.env.ITEM_MODE ?? 'turn') as ItemMode;

async function main(): Promise<void> {
  console.log(`batch benchmark: sizes ${SIZES.join(', ')}, ${CONCURRENCY} at a time, items as ${ITEM_MODE}s; ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const scratch = await mkdtemp(path.join(tmpdir(), 'bench-batch-'));
  const temporal = await startTemporal(EMBEDDED_DYNAMIC_CONFIG);
  const apiKey = randomBytes(16).toString('hex');
  const server = await createRuntimeApiServer({ apiKey, dataDir: scratch, stopGraceMs: 1_000, log: () => {} });
  const runtimeApi = new RuntimeApiClient({ baseUrl: server.url, apiKey });
  const world: World = { server, runtimeApi };
  const batchDir = path.join(scratch, 'batches');
  const taskQueue = `bench-batch-${randomBytes(3).toString('hex')}`;
  const worker = await startChildWorker({
    address: temporal.address,
    namespace: temporal.namespace,
    taskQueue,
    runtimeApiUrl: server.url,
    runtimeApiKey: apiKey,
    bundlePath: await buildBundle(scratch),
    encrypted: true,
    batchDir,
  });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter: await testDataConverter() });
  const batches = new BatchClient({ client, taskQueue, store: new BatchStore(batchDir) });
  const rows: string[][] = [];
  const cpuRows: string[][] = [];
  try {
    for (const size of SIZES) {
      const pool = `bench-${randomBytes(3).toString('hex')}`;
      const cpu = () => readCpu(cpuComponents(temporal.pid, worker.pid, world, pool));
      const beforeEmpty = await cpu();
      const empty = await emptyWorkflows(client, taskQueue, size);
      const afterEmpty = await cpu();
      console.log(`${size} empty workflows: ${empty.toFixed(1)}/s`);
      const batch = await runBatch(batches, world, worker, size, pool);
      const afterBatch = await cpu();
      cpuRows.push(...cpuTable(size, perItem(beforeEmpty, afterEmpty, size), perItem(afterEmpty, afterBatch, size)));
      const msPerItem = (ms: number) => `${ms.toFixed(1)} ms`;
      rows.push([String(size), `${empty.toFixed(1)}/s`, `${batch.rate.toFixed(1)}/s`, (batch.rate / empty).toFixed(3), msPerItem(1000 / batch.rate), `${batch.p50} / ${batch.p99} ms`,
        `${mb(batch.workerRss[0])} → ${mb(batch.workerRss[1])}`, `${mb(batch.runtimeRss[0])} → ${mb(batch.runtimeRss[1])}`, String(batch.openFiles), String(batch.failed), String(batch.leaked)]);
      console.log(table(['items', 'component', 'CPU ms per empty workflow', 'CPU ms per batch item'], cpuRows));
      console.log(table(['items', 'empty wf/s', 'batch items/s', 'ratio', 'cost/item', 'p50 / p99 latency', 'worker RSS', 'runtime RSS', 'runtime fds', 'failed', 'leaked'], rows));
    }
  } finally {
    await connection.close();
    await worker.stop();
    await runtimeApi.close();
    await server.close();
    await temporal.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Items per second for `count` empty workflows, CONCURRENCY at a time from the client. */
async function emptyWorkflows(client: Client, taskQueue: string, count: number): Promise<number> {
  const prefix = `empty-${randomBytes(3).toString('hex')}`;
  const started = Date.now();
  await mapLimit([...Array(count).keys()], CONCURRENCY, (i) => client.workflow.execute('healthCheckWorkflow', { workflowId: `${prefix}-${i}`, taskQueue, args: ['bench'] }));
  return count / ((Date.now() - started) / 1000);
}

interface World {
  readonly server: RuntimeApiServer;
  readonly runtimeApi: RuntimeApiClient;
}

async function runBatch(batches: BatchClient, world: World, worker: Awaited<ReturnType<typeof startChildWorker>>, size: number, pool: string) {
  const input = Array.from({ length: size }, (_, i) => JSON.stringify({ prompt: `echo item-${i}` })).join('\n');
  const workerBefore = (await worker.memory()).rss;
  const started = Date.now();
  const { batchId } = await batches.run({ input, concurrency: CONCURRENCY, shared: pool, itemMode: ITEM_MODE });
  // The runtime's memory once it serves: read when the first items have finished.
  let runtimeBefore = 0;
  let progress: BatchProgress;
  let stuck = 0;
  for (;;) {
    try {
      progress = await batches.progress(batchId);
    } catch (error) {
      // Reported, and waited out for a while: the benchmark measures recovery too.
      if (!(error instanceof BatchWorkflowStuckError) || ++stuck > 20) throw error;
      console.log(`  ${error.message}`);
      continue;
    }
    if (!runtimeBefore && progress.succeeded > 0) runtimeBefore = (await runtimeTree(world, pool)).rss;
    if (progress.finishedAt) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const seconds = (Date.now() - started) / 1000;
  const results: ItemResult[] = [];
  for await (const line of batches.results(batchId)) if ('durationMs' in line) results.push(line);
  const durations = results.map((r) => r.durationMs);
  const runtime = await runtimeTree(world, pool);
  return {
    rate: size / seconds,
    p50: Math.round(percentile(durations, 50)),
    p99: Math.round(percentile(durations, 99)),
    workerRss: [workerBefore, (await worker.memory()).rss] as const,
    runtimeRss: [runtimeBefore, runtime.rss] as const,
    openFiles: await openFiles(world, pool),
    failed: progress.failed + (size - results.length),
    leaked: (await agentConversationsOn(world.runtimeApi, pool)) ?? 0,
  };
}

/** Where the CPU goes: each component's processes (the runtime's once it exists). */
function cpuComponents(temporalPid: number | undefined, workerPid: number | undefined, world: World, pool: string) {
  return {
    'Temporal server': () => processGroup(temporalPid),
    worker: async () => (workerPid ? [workerPid] : []),
    'shared runtime (sandbox tree)': async () => {
      const session = await world.runtimeApi.getSession(sharedSessionId(pool));
      if (!session) return [];
      return (await runtimeProcesses(world.server.sandboxPid(session.runtime_id), session.runtime_id)).map((p) => p.pid);
    },
  };
}

function cpuTable(size: number, empty: Record<string, number>, batch: Record<string, number>): string[][] {
  const total = (reading: Record<string, number>) => Object.values(reading).reduce((a, b) => a + b, 0);
  return [...Object.keys(batch), 'total'].map((name, i) => [
    i === 0 ? String(size) : '',
    name,
    (name === 'total' ? total(empty) : (empty[name] ?? 0)).toFixed(1),
    (name === 'total' ? total(batch) : (batch[name] ?? 0)).toFixed(1),
  ]);
}

async function runtimeIdOf(world: World, pool: string): Promise<string> {
  const session = await world.runtimeApi.getSession(sharedSessionId(pool));
  if (!session) throw new Error(`no runtime for pool ${pool}`);
  return session.runtime_id;
}

async function runtimeTree(world: World, pool: string) {
  return treeMemory(world.server, await runtimeIdOf(world, pool));
}

async function openFiles(world: World, pool: string): Promise<number> {
  const runtimeId = await runtimeIdOf(world, pool);
  const procs = await runtimeProcesses(world.server.sandboxPid(runtimeId), runtimeId);
  const counts = await Promise.all(procs.map((p) => readdir(`/proc/${p.pid}/fd`).then((fds) => fds.length, () => 0)));
  return counts.reduce((a, b) => a + b, 0);
}

await main();
