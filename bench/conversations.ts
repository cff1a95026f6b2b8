// Benchmark of the conversation manager, end to end on one machine: private in-memory
// Temporal dev servers, the local Runtime API (inproc sandboxes, in this process) and
// workers with the real activities. It measures, in one run:
//   1. start → ready through the workflow vs the same activities called directly, and vs the
//      floor: a workflow that only runs the provisioning activity (floor-workflow.ts);
//   2. signal → delivered with many live conversations;
//   3. the worker's resident memory with many idle conversations;
//   4. a message to a paused conversation → delivered, over the runtime's own resume.
// "baseline" is a dev server with no flags; the "+ transfer queue poll rate" lanes run with
// the flag the project's embedded server sets (npm start, npm test). "before" lanes run the
// workflow as it provisioned before the fewer-tasks patch (src/workflows/fewer-tasks.ts:
// three provisioning activities and an admission round trip), beside today's. Further lanes
// measure changes not made in src: eager dispatch and start, update-with-start, and a local
// deliverMessage (through bench-only workflow bundles).
// Run: npx tsx bench/conversations.ts   (ITERATIONS=20 LIVE=100 IDLE=1000 RESUMES=20 to change
// sizes, PARTS=1,3 to run only some parts)
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { RunningDevServer } from '../src/temporal/dev-server.js';
import { EMBEDDED_DYNAMIC_CONFIG } from '../src/temporal/server.js';
import { measureIdleMemory } from './support/idle-memory.js';
import { printMemory, printSignals, printStartToReady } from './support/report.js';
import { buildBundle, buildFloorBundle, startRuntimeApi, startTemporal, withLanes } from './support/setup.js';
import type { RuntimeApi } from './support/setup.js';
import { measureSignals, provision } from './support/signal-latency.js';
import type { Round, SignalSample } from './support/signal-latency.js';
import { directVariant, floorVariant, interleave, updateWithStartVariant, workflowVariant } from './support/start-ready.js';
import type { ReadyVariant } from './support/start-ready.js';
import { RecordedMessages } from './support/recorded.js';
import { compareResumes, printResumeComparison } from './support/resume-compare.js';
import { mapLimit } from './support/stats.js';

const ITERATIONS = Number(process.env.ITERATIONS ?? 20);
const LIVE = Number(process.env.LIVE ?? 100);
const IDLE = Number(process.env.IDLE ?? 1000);
const RESUMES = Number(process.env.RESUMES ?? 20);
const PARTS = new Set((process.env.PARTS ?? '1,2,3,4').split(',').map((p) => p.trim()));
const ROUNDS: Round[] = [
  // 100 ms apart: each turn (~50 ms) has ended before the next message, so nothing overlaps.
  { kind: 'isolated (100 ms apart)', gapMs: 100 },
  { kind: 'spread (20 ms apart)', gapMs: 20 },
  { kind: 'spread (5 ms apart)', gapMs: 5 },
  { kind: 'burst (all at once)', gapMs: 0 },
];
/**
 * The dev server has one history shard, whose transfer queue (which hands every workflow
 * and activity task to matching) is read at most 20 times a second by default: past a
 * burst of about 10, each task waits up to 50 ms.
 */
const FAST_QUEUE = EMBEDDED_DYNAMIC_CONFIG; // what `npm start` and `npm test` run with
const TUNED = { ...FAST_QUEUE, 'system.enableActivityEagerExecution': true, 'system.enableEagerWorkflowStart': true };
const HERE = 'in-process' as const;
const CHILD = 'child process' as const;

type Servers = Record<'plain' | 'fast' | 'tuned', RunningDevServer>;
type Bundles = Record<'plain' | 'before' | 'localDeliver' | 'floor', string>;

async function startToReady(runtime: RuntimeApi, servers: Servers, bundles: Bundles): Promise<void> {
  const { plain, fast, tuned } = servers;
  const specs = {
    baseBefore: { temporal: plain, bundlePath: bundles.before, where: HERE },
    base: { temporal: plain, bundlePath: bundles.plain, where: HERE },
    child: { temporal: plain, bundlePath: bundles.plain, where: CHILD },
    fastBefore: { temporal: fast, bundlePath: bundles.before, where: HERE },
    fast: { temporal: fast, bundlePath: bundles.plain, where: HERE },
    tuned: { temporal: tuned, bundlePath: bundles.plain, where: HERE },
    floor: { temporal: fast, bundlePath: bundles.floor, where: CHILD },
  };
  await withLanes(runtime, specs, async (l) => {
    const rows: Array<[string, string, ReadyVariant]> = [
      ['direct', 'direct: same activities, no Temporal', directVariant('direct', runtime.wired.activities)],
      ['before', 'as before issue 13 (workflow before the fewer-tasks patch, start then admission update)', workflowVariant('before', l.baseBefore!.conversations, true)],
      ['baseline', 'workflow, worker in this process', workflowVariant('baseline', l.base!.conversations)],
      ['child', 'workflow, worker in a child process', workflowVariant('child', l.child!.conversations)],
      ['fastQBef', '+ transfer queue poll rate (npm start default), as before issue 13', workflowVariant('fastQBef', l.fastBefore!.conversations, true)],
      ['fastQ', '+ transfer queue poll rate (npm start default)', workflowVariant('fastQ', l.fast!.conversations)],
      ['fastQSep', '  the same, start then admission update (the client before)', workflowVariant('fastQSep', l.fast!.conversations, true)],
      ['eagerAct', '+ eager activity dispatch (server flag)', workflowVariant('eagerAct', l.tuned!.conversations)],
      ['eagerStart', '  + eager workflow start', workflowVariant('eagerStart', l.tuned!.eagerConversations!)],
      ['updStart', '  + update-with-start (no eager start)', updateWithStartVariant('updStart', l.tuned!.conversations, l.tuned!.worker.taskQueue)],
      ['floor', 'floor: a workflow that only runs provisionRuntime (npm start server, child process)', floorVariant('floor', l.floor!.conversations, l.floor!.worker.taskQueue, runtime.wired.activities)],
    ];
    printStartToReady(rows, await interleave(rows.map(([, , variant]) => variant), ITERATIONS), ITERATIONS);
  });
}

async function signalToDelivered(runtime: RuntimeApi, servers: Servers, bundles: Bundles): Promise<void> {
  const specs = {
    'baseline, worker in a child process': { temporal: servers.plain, bundlePath: bundles.plain, where: CHILD },
    'baseline, worker in this process': { temporal: servers.plain, bundlePath: bundles.plain, where: HERE },
    '+ transfer queue poll rate (npm start default)': { temporal: servers.fast, bundlePath: bundles.plain, where: CHILD },
    '  + eager activity dispatch': { temporal: servers.tuned, bundlePath: bundles.plain, where: CHILD },
    '  + eager dispatch, deliverMessage local': { temporal: servers.tuned, bundlePath: bundles.localDeliver, where: CHILD },
  };
  const results = new Map<string, Map<string, SignalSample[]>>();
  await withLanes(runtime, specs, async (lanes) => {
    for (const [label, lane] of Object.entries(lanes)) {
      const ids = await provision(lane.conversations, LIVE, `bench-live-${lane.worker.taskQueue}`);
      results.set(label, await measureSignals(lane.conversations, ids, ROUNDS));
      await mapLimit(ids, 25, async (id) => {
        await lane.conversations.close(id);
        await lane.conversations.result(id);
      });
    }
  });
  printSignals(results, LIVE);
}

/** Before and after the fewer-tasks patch, on the server `npm start` runs, each worker in a child process. */
async function resumeOverhead(runtime: RuntimeApi, servers: Servers, bundles: Bundles): Promise<void> {
  const specs = {
    before: { temporal: servers.fast, bundlePath: bundles.before, where: CHILD },
    after: { temporal: servers.fast, bundlePath: bundles.plain, where: CHILD },
  };
  const recorded = new RecordedMessages(runtime.wired.runtimeApi);
  try {
    const results = await withLanes(runtime, specs, (l) =>
      compareResumes(
        [
          { label: 'before the fewer-tasks patch', conversations: l.before!.conversations },
          { label: 'after', conversations: l.after!.conversations },
        ],
        recorded,
        4,
        Math.max(1, Math.round(RESUMES / 4)),
      ),
    );
    printResumeComparison(results);
  } finally {
    await recorded.close();
  }
}

async function main(): Promise<void> {
  const began = performance.now();
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`conversation benchmark — node ${process.version}, ${cpus().length} CPUs, load average ${load()}\n`);
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const scratch = await mkdtemp(path.join(tmpdir(), 'bench-conversations-'));
    cleanups.push(() => rm(scratch, { recursive: true, force: true }));
    const [plain, before, localDeliver, floor] = await Promise.all([
      buildBundle(scratch),
      buildBundle(scratch, { beforeFewerTasks: true }),
      buildBundle(scratch, { localActivities: ['deliverMessage'] }),
      buildFloorBundle(scratch),
    ]);
    const servers = {} as Servers;
    for (const [name, flags] of [['plain', undefined], ['fast', FAST_QUEUE], ['tuned', TUNED]] as const) {
      servers[name] = await startTemporal(flags);
      cleanups.push(() => servers[name].stop());
    }
    const runtime = await startRuntimeApi({ startDelayMs: 150 });
    cleanups.push(() => runtime.close());
    const bundles = { plain, before, localDeliver, floor };

    if (PARTS.has('1')) await startToReady(runtime, servers, bundles);
    if (PARTS.has('2')) await signalToDelivered(runtime, servers, bundles);
    if (PARTS.has('3')) {
      const spec = { idle: { temporal: servers.plain, bundlePath: plain, where: CHILD } };
      const memory = await withLanes(runtime, spec, ({ idle }) => measureIdleMemory(idle!.conversations, idle!.worker, IDLE, 'bench-idle'));
      printMemory(memory);
    }
    if (PARTS.has('4')) await resumeOverhead(runtime, servers, bundles);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error(`cleanup: ${String(error)}`));
  }
  console.log(`\ntotal benchmark time ${((performance.now() - began) / 1000).toFixed(0)} s; load average now ${load()}`);
}

await main();
