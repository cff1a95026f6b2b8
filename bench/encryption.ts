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
import { signalToDeliveredAcross, startToReadyAcross } from './support/lane-comparison.js';
import type { LaneNames } from './support/lane-comparison.js';
import { table } from './support/stats.js';

const ITERATIONS = Number(process.env.ITERATIONS ?? 30);
const LIVE = Number(process.env.LIVE ?? 50);
// `control` is a second clear lane: the noise floor (bench/support/lane-comparison.ts).
const LANES: LaneNames = { subject: 'encrypted', baseline: 'clear', control: 'control' };

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
      await startToReadyAcross(lanes, LANES, ITERATIONS);
      await signalToDeliveredAcross(lanes, LANES, LIVE);
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
