// What payload encryption costs, side by side in one run: three lanes on one dev server
// (the flags `npm start` uses), one whose clients and worker encrypt every payload as
// `npm start` does, two in the clear (PAYLOAD_ENCRYPTION=off; the second, `control`, gives
// the noise floor), the same local Runtime API (inproc sandboxes, runtime start fixed at
// 150 ms) behind all three. It measures:
//   1. start → ready, interleaved run by run (encrypted, clear, control, encrypted, …);
//   2. signal → delivered with LIVE live conversations per lane, rounds in alternation;
//   3. the codec alone: encode + decode of one message-sized payload.
// Run: npx tsx bench/encryption.ts   (ITERATIONS=30 LIVE=50 to change sizes)
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { EMBEDDED_DYNAMIC_CONFIG } from '../src/temporal/server.js';
import { testCodec } from '../test/support/codec.js';
import { buildBundle, startRuntimeApi, startTemporal, withLanes } from './support/setup.js';
import type { Lane } from './support/setup.js';
import { measureSignals, provision } from './support/signal-latency.js';
import type { Round, SignalSample } from './support/signal-latency.js';
import { interleave, workflowVariant } from './support/start-ready.js';
import { mapLimit, median, ms, percentile, table } from './support/stats.js';

const ITERATIONS = Number(process.env.ITERATIONS ?? 30);
const LIVE = Number(process.env.LIVE ?? 50);
const ROUNDS: Round[] = [
  { kind: 'isolated (100 ms apart)', gapMs: 100 },
  { kind: 'spread (20 ms apart)', gapMs: 20 },
];
// `control` is a second clear lane: what tells two identical lanes apart (worker process,
// order, the machine's drift) is the noise floor the encrypted/clear ratio must be read against.
const LANES = ['encrypted', 'clear', 'control'] as const;

const ratio = (a: number, b: number) => `${(a / b).toFixed(3)} (${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(1)} %)`;

async function startToReady(lanes: Record<string, Lane>): Promise<void> {
  const variants = LANES.map((name) => workflowVariant(name, lanes[name]!.conversations));
  const runs = await interleave(variants, ITERATIONS);
  const totals = (name: string) => runs.get(name)!.map((r) => r.totalMs);
  console.log(`1. start → ready (ConversationClient.start, then waitUntilReady); ${ITERATIONS} interleaved runs per lane after 2 warm-up rounds\n`);
  console.log(table(['lane', 'median', 'p90'], LANES.map((name) => [name, ms(median(totals(name))), ms(percentile(totals(name), 90))])));
  console.log(`\n   encrypted / clear, medians: ${ratio(median(totals('encrypted')), median(totals('clear')))}`);
  console.log(`   control / clear, medians (noise floor): ${ratio(median(totals('control')), median(totals('clear')))}\n`);
}

async function signalToDelivered(lanes: Record<string, Lane>): Promise<void> {
  // Each round runs twice per lane in the order A B C C B A, so a drift in the machine's load (it is
  // shared) weighs on both lanes alike. Each block gets fresh conversations: measureSignals
  // pairs the k-th signal of a history with its k-th delivery.
  const samples = new Map<string, Map<string, SignalSample[]>>(LANES.map((name) => [name, new Map(ROUNDS.map((r) => [r.kind, []]))]));
  for (const round of ROUNDS) {
    for (const name of [...LANES, ...[...LANES].reverse()]) {
      const fresh = await provision(lanes[name]!.conversations, LIVE, `bench-enc-${name}-${round.gapMs}-${Date.now()}`);
      const result = await measureSignals(lanes[name]!.conversations, fresh, [round]);
      samples.get(name)!.get(round.kind)!.push(...result.get(round.kind)!);
      await closeAll(lanes[name]!, fresh);
    }
  }
  console.log(`2. signal → delivered (send() called → the agent server recorded the user message), ${LIVE} live idle conversations per block, blocks A B C C B A\n`);
  const rows: string[][] = [];
  for (const round of ROUNDS) {
    for (const name of LANES) {
      const latencies = samples.get(name)!.get(round.kind)!.map((s) => s.latencyMs);
      rows.push([name === LANES[0] ? round.kind : '', name, String(latencies.length), ms(percentile(latencies, 50)), ms(percentile(latencies, 99))]);
    }
  }
  console.log(table(['round', 'lane', 'samples', 'p50', 'p99'], rows));
  for (const round of ROUNDS) {
    const of = (name: string, p: number) => percentile(samples.get(name)!.get(round.kind)!.map((s) => s.latencyMs), p);
    console.log(`\n   ${round.kind}: encrypted / clear p50 ${ratio(of('encrypted', 50), of('clear', 50))}, p99 ${ratio(of('encrypted', 99), of('clear', 99))}`);
    console.log(`   ${round.kind}: control / clear p50 ${ratio(of('control', 50), of('clear', 50))}, p99 ${ratio(of('control', 99), of('clear', 99))} (noise floor)`);
  }
  console.log();
}

async function closeAll(lane: Lane, ids: readonly string[]): Promise<void> {
  await mapLimit(ids, 25, async (id) => {
    await lane.conversations.close(id);
    await lane.conversations.result(id);
  });
}

async function codecAlone(): Promise<void> {
  const codec = await testCodec();
  console.log('3. the codec alone, per payload (after a warm-up; a message makes about six encodes and decodes on its way in)\n');
  const rows: string[][] = [];
  for (const bytes of [100, 10_000, 256 * 1024]) {
    const payload = defaultPayloadConverter.toPayload({ messageId: 'm', text: 'a'.repeat(bytes) });
    const runs = bytes > 100_000 ? 300 : 3_000;
    const time = async (fn: () => Promise<unknown>) => {
      for (let i = 0; i < runs / 10; i++) await fn();
      const began = performance.now();
      for (let i = 0; i < runs; i++) await fn();
      return `${(((performance.now() - began) / runs) * 1000).toFixed(1)} µs`;
    };
    const [sealed] = await codec.encode([payload]);
    rows.push([`${bytes.toLocaleString('en-US')} bytes of text`, await time(() => codec.encode([payload])), await time(() => codec.decode([sealed!]))]);
  }
  console.log(table(['payload', 'encode', 'decode'], rows));
}

async function main(): Promise<void> {
  const began = performance.now();
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`encryption benchmark — node ${process.version}, ${cpus().length} CPUs, load average ${load()}\n`);
  const scratch = await mkdtemp(path.join(tmpdir(), 'bench-encryption-'));
  const temporal = await startTemporal({ ...EMBEDDED_DYNAMIC_CONFIG });
  const runtime = await startRuntimeApi({ startDelayMs: 150 });
  try {
    const bundlePath = await buildBundle(scratch);
    const where = 'child process' as const;
    const specs = {
      encrypted: { temporal, bundlePath, where, encrypted: true },
      clear: { temporal, bundlePath, where, encrypted: false },
      control: { temporal, bundlePath, where, encrypted: false },
    };
    await withLanes(runtime, specs, async (lanes) => {
      await startToReady(lanes);
      await signalToDelivered(lanes);
    });
    await codecAlone();
  } finally {
    await runtime.close();
    await temporal.stop();
    await rm(scratch, { recursive: true, force: true });
  }
  console.log(`\ntotal benchmark time ${((performance.now() - began) / 1000).toFixed(0)} s; load average now ${load()}`);
}

await main();
