// Part 4 of bench/conversations.ts: a message to a paused conversation → delivered, less
// the runtime's own resume (POST /resume + wait until alive), for the workflow before the
// fewer-tasks patch and after it, side by side: rounds of a few conversations per lane,
// the lanes' order alternating (A B B A …), so both share whatever load the machine has.
import type { ConversationClient } from '../../src/client.js';
import { resumes } from './idle-scale.js';
import type { ResumeSample } from './idle-scale.js';
import type { RecordedMessages } from './recorded.js';
import { provision } from './signal-latency.js';
import { mapLimit, median, ms, percentile, table } from './stats.js';

export interface ResumeLane {
  readonly label: string;
  readonly conversations: ConversationClient;
}

export async function compareResumes(lanes: readonly ResumeLane[], recorded: RecordedMessages, rounds: number, perRound: number): Promise<Map<string, ResumeSample[]>> {
  const samples = new Map(lanes.map((lane) => [lane.label, [] as ResumeSample[]]));
  const ids = new Map<string, string[]>();
  for (const lane of lanes) ids.set(lane.label, await provision(lane.conversations, rounds * perRound, `bench-resume-${lane.label.replace(/\W+/g, '-')}`, 10));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? lanes : [...lanes].reverse();
    for (const lane of order) {
      const mine = ids.get(lane.label)!.slice(round * perRound, (round + 1) * perRound);
      samples.get(lane.label)!.push(...(await resumes(lane.conversations, mine, recorded)));
    }
  }
  for (const lane of lanes) {
    await mapLimit(ids.get(lane.label)!, 10, async (id) => {
      await lane.conversations.close(id);
      await lane.conversations.result(id);
    });
  }
  return samples;
}

export function printResumeComparison(results: Map<string, ResumeSample[]>): void {
  const n = [...results.values()][0]?.length ?? 0;
  console.log(`4. message to a paused conversation → delivered (send() → agent server recorded it), ${n} per lane, one at a time, 500 ms apart\n`);
  const rows: string[][] = [];
  for (const [label, samples] of results) {
    const overhead = samples.map((s) => s.totalMs - s.runtimeMs);
    rows.push([
      label,
      `${ms(median(samples.map((s) => s.totalMs)))} / ${ms(percentile(samples.map((s) => s.totalMs), 99))}`,
      `${ms(median(samples.map((s) => s.runtimeMs)))} / ${ms(percentile(samples.map((s) => s.runtimeMs), 99))}`,
      `${ms(median(overhead))} / ${ms(percentile(overhead, 99))}`,
      String(median(samples.map((s) => s.workflowTasks))),
      samples[Math.floor(samples.length / 2)]?.activities ?? '',
    ]);
  }
  console.log(table(['lane', 'total p50 / p99', 'runtime\'s own resume p50 / p99', 'overhead p50 / p99 (target ≤ 50 ms)', 'workflow tasks', 'activities (a median sample)'], rows));
  console.log();
}
