// What metrics and tracing cost, side by side in one run: three lanes on one dev server,
// one `observed` (its worker serves Prometheus metrics, keeps the by-status gauge and traces
// every workflow, activity and HTTP call, exporting spans over OTLP/HTTP to a stand-in
// collector; its client traces too), two `plain` (neither, as without METRICS_ADDRESS and
// OTEL_EXPORTER_OTLP_ENDPOINT; the second, `control`, gives the noise floor). Payloads are
// encrypted in all three, as `npm start` runs. Same local Runtime API (inproc sandboxes,
// runtime start fixed at 150 ms) behind all three. It measures:
//   1. start → ready, interleaved run by run (observed, plain, control, observed, …);
//   2. signal → delivered with LIVE live conversations per lane, blocks A B C C B A.
// Run: npm run bench -- observability   (ITERATIONS=30 LIVE=50 to change sizes)
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { startTracing } from '../src/observability/tracing.js';
import { EMBEDDED_DYNAMIC_CONFIG } from '../src/temporal/server.js';
import { startOtlpReceiver } from './support/otlp-receiver.js';
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
const LANES = ['observed', 'plain', 'control'] as const;

const ratio = (a: number, b: number) => `${(a / b).toFixed(3)} (${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(1)} %)`;

async function startToReady(lanes: Record<string, Lane>): Promise<void> {
  const runs = await interleave(LANES.map((name) => workflowVariant(name, lanes[name]!.conversations)), ITERATIONS);
  const totals = (name: string) => runs.get(name)!.map((r) => r.totalMs);
  console.log(`1. start → ready (ConversationClient.start, then waitUntilReady); ${ITERATIONS} interleaved runs per lane after 2 warm-up rounds\n`);
  console.log(table(['lane', 'median', 'p90'], LANES.map((name) => [name, ms(median(totals(name))), ms(percentile(totals(name), 90))])));
  console.log(`\n   observed / plain, medians: ${ratio(median(totals('observed')), median(totals('plain')))}`);
  console.log(`   control / plain, medians (noise floor): ${ratio(median(totals('control')), median(totals('plain')))}\n`);
}

async function signalToDelivered(lanes: Record<string, Lane>): Promise<void> {
  const samples = new Map<string, Map<string, SignalSample[]>>(LANES.map((name) => [name, new Map(ROUNDS.map((r) => [r.kind, []]))]));
  for (const round of ROUNDS) {
    for (const name of [...LANES, ...[...LANES].reverse()]) {
      const fresh = await provision(lanes[name]!.conversations, LIVE, `bench-obs-${name}-${round.gapMs}-${Date.now()}`);
      const result = await measureSignals(lanes[name]!.conversations, fresh, [round]);
      samples.get(name)!.get(round.kind)!.push(...result.get(round.kind)!);
      await mapLimit(fresh, 25, async (id) => {
        await lanes[name]!.conversations.close(id);
        await lanes[name]!.conversations.result(id);
      });
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
    console.log(`\n   ${round.kind}: observed / plain p50 ${ratio(of('observed', 50), of('plain', 50))}, p99 ${ratio(of('observed', 99), of('plain', 99))}`);
    console.log(`   ${round.kind}: control / plain p50 ${ratio(of('control', 50), of('plain', 50))}, p99 ${ratio(of('control', 99), of('plain', 99))} (noise floor)`);
  }
  console.log();
}

async function main(): Promise<void> {
  const began = performance.now();
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`observability benchmark — node ${process.version}, ${cpus().length} CPUs, load average ${load()}\n`);
  const scratch = await mkdtemp(path.join(tmpdir(), 'bench-observability-'));
  const temporal = await startTemporal({ ...EMBEDDED_DYNAMIC_CONFIG });
  const runtime = await startRuntimeApi({ startDelayMs: 150 });
  const collector = await startOtlpReceiver();
  // The observed lane's client traces from this process, as an application's would.
  const tracing = startTracing({ otlpEndpoint: collector.endpoint, serviceName: 'bench-client' });
  try {
    const bundlePath = await buildBundle(scratch);
    const where = 'child process' as const;
    const observed = { otlpEndpoint: collector.endpoint, clientInterceptors: tracing?.clientInterceptors ?? [] };
    const specs = {
      observed: { temporal, bundlePath, where, observed },
      plain: { temporal, bundlePath, where },
      control: { temporal, bundlePath, where },
    };
    await withLanes(runtime, specs, async (lanes) => {
      await startToReady(lanes);
      await signalToDelivered(lanes);
    });
  } finally {
    await tracing?.shutdown();
    console.log(`the stand-in collector received ${collector.received.exports} trace exports (${(collector.received.bytes / 1024).toFixed(0)} KiB)`);
    await collector.close();
    await runtime.close();
    await temporal.stop();
    await rm(scratch, { recursive: true, force: true });
  }
  console.log(`\ntotal benchmark time ${((performance.now() - began) / 1000).toFixed(0)} s; load average now ${load()}`);
}

await main();
