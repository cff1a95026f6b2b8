// A feature's cost measured as three lanes on one dev server: `subject` (the feature on),
// `baseline` (off) and `control` (off again). Control differs from baseline in nothing, so
// how far apart those two land is the noise floor the subject/baseline ratio must be read
// against. Used by the encryption and observability benchmarks.
//   1. start → ready, interleaved run by run (subject, baseline, control, subject, …);
//   2. signal → delivered with `live` live conversations per block, blocks A B C C B A.
import type { Lane } from './setup.js';
import { measureSignals, provision } from './signal-latency.js';
import type { Round, SignalSample } from './signal-latency.js';
import { interleave, workflowVariant } from './start-ready.js';
import { mapLimit, median, ms, percentile, table } from './stats.js';

export interface LaneNames {
  readonly subject: string;
  readonly baseline: string;
  readonly control: string;
}

export const SIGNAL_ROUNDS: readonly Round[] = [
  { kind: 'isolated (100 ms apart)', gapMs: 100 },
  { kind: 'spread (20 ms apart)', gapMs: 20 },
];

const ratio = (a: number, b: number) => `${(a / b).toFixed(3)} (${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(1)} %)`;
const order = (names: LaneNames) => [names.subject, names.baseline, names.control];

export async function startToReadyAcross(lanes: Record<string, Lane>, names: LaneNames, iterations: number): Promise<void> {
  const runs = await interleave(order(names).map((name) => workflowVariant(name, lanes[name]!.conversations)), iterations);
  const totals = (name: string) => runs.get(name)!.map((r) => r.totalMs);
  console.log(`1. start → ready (ConversationClient.start, then waitUntilReady); ${iterations} interleaved runs per lane after 2 warm-up rounds\n`);
  console.log(table(['lane', 'median', 'p90'], order(names).map((name) => [name, ms(median(totals(name))), ms(percentile(totals(name), 90))])));
  console.log(`\n   ${names.subject} / ${names.baseline}, medians: ${ratio(median(totals(names.subject)), median(totals(names.baseline)))}`);
  console.log(`   ${names.control} / ${names.baseline}, medians (noise floor): ${ratio(median(totals(names.control)), median(totals(names.baseline)))}\n`);
}

export async function signalToDeliveredAcross(lanes: Record<string, Lane>, names: LaneNames, live: number): Promise<void> {
  // Each round runs twice per lane in the order A B C C B A, so a drift in the machine's load (it is
  // shared) weighs on all lanes alike. Each block gets fresh conversations: measureSignals
  // pairs the k-th signal of a history with its k-th delivery.
  const laneOrder = order(names);
  const samples = new Map<string, Map<string, SignalSample[]>>(laneOrder.map((name) => [name, new Map(SIGNAL_ROUNDS.map((r) => [r.kind, []]))]));
  for (const round of SIGNAL_ROUNDS) {
    for (const name of [...laneOrder, ...[...laneOrder].reverse()]) {
      const lane = lanes[name]!;
      const fresh = await provision(lane.conversations, live, `bench-${name}-${round.gapMs}-${Date.now()}`);
      const result = await measureSignals(lane.conversations, fresh, [round]);
      samples.get(name)!.get(round.kind)!.push(...result.get(round.kind)!);
      await mapLimit(fresh, 25, async (id) => {
        await lane.conversations.close(id);
        await lane.conversations.result(id);
      });
    }
  }
  console.log(`2. signal → delivered (send() called → the agent server recorded the user message), ${live} live idle conversations per block, blocks A B C C B A\n`);
  const latencies = (name: string, kind: string) => samples.get(name)!.get(kind)!.map((s) => s.latencyMs);
  const rows = SIGNAL_ROUNDS.flatMap((round) =>
    laneOrder.map((name, i) => {
      const values = latencies(name, round.kind);
      return [i === 0 ? round.kind : '', name, String(values.length), ms(percentile(values, 50)), ms(percentile(values, 99))];
    }),
  );
  console.log(table(['round', 'lane', 'samples', 'p50', 'p99'], rows));
  for (const round of SIGNAL_ROUNDS) {
    const of = (name: string, p: number) => percentile(latencies(name, round.kind), p);
    const versus = (name: string) => `p50 ${ratio(of(name, 50), of(names.baseline, 50))}, p99 ${ratio(of(name, 99), of(names.baseline, 99))}`;
    console.log(`\n   ${round.kind}: ${names.subject} / ${names.baseline} ${versus(names.subject)}`);
    console.log(`   ${round.kind}: ${names.control} / ${names.baseline} ${versus(names.control)} (noise floor)`);
  }
  console.log();
}
