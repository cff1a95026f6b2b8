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
import { signalToDeliveredAcross, startToReadyAcross } from './support/lane-comparison.js';
import type { LaneNames } from './support/lane-comparison.js';

const ITERATIONS = Number(process.env.ITERATIONS ?? 30);
const LIVE = Number(process.env.LIVE ?? 50);
const LANES: LaneNames = { subject: 'observed', baseline: 'plain', control: 'control' };

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
      await startToReadyAcross(lanes, LANES, ITERATIONS);
      await signalToDeliveredAcross(lanes, LANES, LIVE);
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
