// Scale benchmark of one worker: what live idle conversations cost it with the sticky
// cache sized as shipped (WORKER_CACHE_SIZE), what leaving the cache costs the next
// message, what a resume adds over the runtime's own, and how close conversations come to
// the server's ceiling (a one-signal-one-activity workflow), with the CPU each kind of
// message costs every process on the machine. Private in-memory dev servers
// with the flags `npm start` uses, the local Runtime API (inproc sandboxes, runtime start
// fixed at 150 ms) in this process, each worker in a child process of its own.
// Run: npm run bench -- scale   (the quick size, a few minutes: what `npm run bench` runs)
//      SCALE=full npm run bench -- scale   (the sizes: 10,000 idle, 1,000 live; the 10,000 alone take about 17 minutes on a quiet 2-core machine)
// Each size can be set on its own: IDLE CACHE SAMPLES LIVE BURSTS PACED PACED_GAP_MS PARTS=1,2,3,
// and WORKER_MAX_OLD_SPACE_MB=512 bounds the worker's heaps.
import { mkdtemp, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_WORKER_CACHE_SIZE } from '../src/config.js';
import { EMBEDDED_DYNAMIC_CONFIG } from '../src/temporal/server.js';
import { bringUpIdle, firstMessages, resumes } from './support/idle-scale.js';
import { buildCeilingBundle, burst, ceilingTarget, conversationTarget, paced } from './support/message-rate.js';
import type { MessageTarget, RateResult } from './support/message-rate.js';
import { perItem, readCpu } from './support/process-cpu.js';
import type { CpuReading } from './support/process-cpu.js';
import { processGroup } from './support/process-memory.js';
import { RecordedMessages } from './support/recorded.js';
import { printCeiling, printFirstMessages, printResumes, printScaleMemory } from './support/scale-report.js';
import { buildBundle, startRuntimeApi, startTemporal, withLanes } from './support/setup.js';
import { provision } from './support/signal-latency.js';

/**
 * Two sizes. `quick` (the default) keeps the cache small so that most of the idle
 * conversations are outside it, and gives the per-cached and per-uncached costs, the
 * projection to 10,000 and every ratio in a few minutes; `full` brings the 10,000 up with
 * the cache as shipped.
 */
const SIZES = {
  quick: { IDLE: 600, CACHE: 200, SAMPLES: 20, LIVE: 200, BURSTS: 2, PACED: 50 },
  full: { IDLE: 10_000, CACHE: DEFAULT_WORKER_CACHE_SIZE, SAMPLES: 40, LIVE: 1000, BURSTS: 2, PACED: 100 },
} as const;
const SCALE = process.env.SCALE ?? 'quick';
if (SCALE !== 'quick' && SCALE !== 'full') throw new Error(`SCALE must be quick or full, not ${JSON.stringify(SCALE)}`);
const size = SIZES[SCALE];
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const IDLE = env('IDLE', size.IDLE);
const CACHE = env('CACHE', size.CACHE);
const SAMPLES = env('SAMPLES', size.SAMPLES);
const LIVE = env('LIVE', size.LIVE);
const BURSTS = env('BURSTS', size.BURSTS);
const PACED = env('PACED', size.PACED);
const PACED_GAP_MS = env('PACED_GAP_MS', 100);
const PARTS = new Set((process.env.PARTS ?? '1,2,3').split(',').map((p) => p.trim()));
/** No conversation pauses by itself while the benchmark runs (bringing 10,000 up takes minutes). */
const POLICY = { idleDelayMs: 6 * 3_600_000 };
const CHILD = 'child process' as const;
/** After a burst, before its CPU is read: the last turns end within it on a quiet machine. */
const SETTLE_MS = 3_000;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

/** Parts 1 and 2: IDLE conversations on one worker, then first messages and resumes among them. */
async function idleWorld(bundlePath: string): Promise<void> {
  if (IDLE < CACHE + 2 * SAMPLES) console.log(`(IDLE ${IDLE} < CACHE ${CACHE} + 2 × SAMPLES: the "uncached" samples may still be cached)\n`);
  const temporal = await startTemporal(EMBEDDED_DYNAMIC_CONFIG);
  const runtime = await startRuntimeApi({ startDelayMs: 150 });
  const recorded = new RecordedMessages(runtime.wired.runtimeApi);
  try {
    const spec = { idle: { temporal, bundlePath, where: CHILD, maxCachedWorkflows: CACHE } };
    await withLanes(runtime, spec, async ({ idle }) => {
      const conversations = idle!.conversations.withPolicyOverrides(POLICY);
      const { memory, ids } = await bringUpIdle(conversations, idle!.worker, IDLE, CACHE, 'scale-idle');
      printScaleMemory(memory, load());
      const first = await firstMessages(conversations, ids, SAMPLES, recorded);
      printFirstMessages(first, CACHE, load());
      if (!PARTS.has('2')) return;
      // Among the newest, which are still cached and which part 1 did not touch.
      const paused = ids.slice(ids.length - 2 * SAMPLES - SAMPLES, ids.length - 2 * SAMPLES);
      printResumes(await resumes(conversations, paused, recorded), load());
    });
  } finally {
    await recorded.close();
    await runtime.close();
    await temporal.stop();
  }
}

/** Part 3: LIVE ceiling workflows and LIVE conversations on one server, bursts alternating A B B A. */
async function ceiling(bundlePath: string, ceilingBundlePath: string): Promise<void> {
  const temporal = await startTemporal(EMBEDDED_DYNAMIC_CONFIG);
  const runtime = await startRuntimeApi({ startDelayMs: 150 });
  const recorded = new RecordedMessages(runtime.wired.runtimeApi);
  try {
    const specs = {
      // The same cache for both: with LIVE above it, a burst (which visits every workflow in turn) replays each one.
      ceiling: { temporal, bundlePath: ceilingBundlePath, where: CHILD, kind: 'ceiling' as const, maxCachedWorkflows: CACHE },
      conversations: { temporal, bundlePath, where: CHILD, maxCachedWorkflows: CACHE },
    };
    await withLanes(runtime, specs, async (lanes) => {
      const base = await ceilingTarget(lanes.ceiling!, LIVE, 'scale-ceiling');
      const conversations = lanes.conversations!.conversations.withPolicyOverrides(POLICY);
      const ids = await provision(conversations, LIVE, 'scale-live', 50);
      const targets: Record<'ceiling' | 'conversations', MessageTarget> = { ceiling: base, conversations: conversationTarget(conversations, ids, recorded) };
      const bursts: Record<string, RateResult[]> = { ceiling: [], conversations: [] };
      const cpu: Record<string, CpuReading[]> = { ceiling: [], conversations: [] };
      const readAll = () => readCpu({ 'Temporal server': () => processGroup(temporal.pid), 'worker (child process)': async () => [lanes.ceiling!.worker.pid!, lanes.conversations!.worker.pid!] });
      const order = Array.from({ length: BURSTS }, (_, i) => (i % 2 === 0 ? ['ceiling', 'conversations'] : ['conversations', 'ceiling'])).flat() as Array<keyof typeof targets>;
      for (const [i, name] of order.entries()) {
        const before = await readAll();
        const result = await burst(targets[name], `burst ${i}`);
        // A message's work goes on after its delivery (a conversation follows the turn): let it end before reading.
        await sleep(SETTLE_MS);
        bursts[name]!.push(result);
        cpu[name]!.push(perItem(before, await readAll(), result.messages));
      }
      const pacedResults = { ceiling: await paced(targets.ceiling, 'paced', PACED, PACED_GAP_MS), conversations: await paced(targets.conversations, 'paced', PACED, PACED_GAP_MS) };
      printCeiling({ live: LIVE, bursts, cpu, settleMs: SETTLE_MS, paced: pacedResults, pacedGapMs: PACED_GAP_MS }, load());
      await base.stop();
    });
  } finally {
    await recorded.close();
    await runtime.close();
    await temporal.stop();
  }
}

async function main(): Promise<void> {
  const began = performance.now();
  console.log(`scale benchmark (${SCALE}: ${IDLE} idle, ${LIVE} live) — node ${process.version}, ${cpus().length} CPUs, load average ${load()}; worker cache ${CACHE}\n`);
  const scratch = await mkdtemp(path.join(tmpdir(), 'bench-scale-'));
  try {
    const [bundlePath, ceilingBundlePath] = await Promise.all([buildBundle(scratch), buildCeilingBundle(scratch)]);
    if (PARTS.has('1')) await idleWorld(bundlePath);
    if (PARTS.has('3')) await ceiling(bundlePath, ceilingBundlePath);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  console.log(`\ntotal benchmark time ${((performance.now() - began) / 1000).toFixed(0)} s; load average now ${load()}`);
}

await main();
