// The benchmark's printed tables, one function per part.
import type { MemoryResult } from './idle-memory.js';
import { SIGNAL_PHASES } from './signal-latency.js';
import type { SignalSample } from './signal-latency.js';
import { PHASES } from './start-ready.js';
import type { ReadyRun } from './start-ready.js';
import { mb, median, ms, percentile, table } from './stats.js';

const known = (values: readonly number[]) => values.filter((v) => !Number.isNaN(v));

export function printStartToReady(rows: ReadonlyArray<readonly [short: string, label: string, ...unknown[]]>, runs: Map<string, ReadyRun[]>, iterations: number): void {
  const totals = (short: string) => runs.get(short)!.map((r) => r.totalMs);
  const direct = median(totals('direct'));
  console.log(`1. start → ready, runtime start fixed at 150 ms (inproc driver); ${iterations} interleaved runs each, after 2 warm-up rounds\n`);
  console.log(
    table(
      ['variant', 'median', 'p90', 'ratio of medians'],
      rows.map(([short, label]) => [label, ms(median(totals(short))), ms(percentile(totals(short), 90)), (median(totals(short)) / direct).toFixed(2)]),
    ),
  );
  console.log('\n   where the time goes (medians, from the workflow histories; "-": not a step of its own there)\n');
  const phase = (short: string, name: string) => median(known(runs.get(short)!.map((r) => r.phases[name] ?? Number.NaN)));
  const cell = (name: string, value: number) => (Number.isNaN(value) ? '-' : name.endsWith('(count)') ? String(value) : ms(value));
  console.log(
    table(
      ['phase', ...rows.map(([short]) => short)],
      [...PHASES.map((name) => [name, ...rows.map(([short]) => cell(name, phase(short, name)))]), ['total', ...rows.map(([short]) => ms(median(totals(short))))]],
    ),
  );
  console.log();
}

export function printSignals(results: Map<string, Map<string, SignalSample[]>>, live: number): void {
  console.log(`2. signal → delivered (send() called → agent server recorded the user MessageEvent), ${live} live idle conversations\n`);
  const rows: string[][] = [];
  for (const [label, byKind] of results) {
    for (const [kind, samples] of byKind) {
      const latencies = samples.map((s) => s.latencyMs);
      rows.push([rows.length % byKind.size === 0 ? label : '', kind, String(latencies.length), ms(percentile(latencies, 50)), ms(percentile(latencies, 99)), ms(Math.max(...latencies))]);
    }
  }
  console.log(table(['lane', 'round', 'samples', 'p50', 'p99', 'max'], rows));
  const labels = [...results.keys()];
  const kinds = [...(results.values().next().value?.keys() ?? [])].filter((k) => !k.startsWith('burst'));
  for (const kind of kinds) {
    console.log(`\n   where the time goes, ${kind} (p50 / p99; lanes in the order above)\n`);
    const cell = (samples: readonly SignalSample[], name: string) => {
      const values = known(samples.map((s) => s.phases[name] ?? Number.NaN));
      return values.length === 0 ? '-' : `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))}`;
    };
    const phaseRows = SIGNAL_PHASES.map((name) => [name, ...labels.map((label) => cell(results.get(label)!.get(kind)!, name))]);
    console.log(table(['phase', ...labels.map((_, i) => `lane ${i + 1}`)], phaseRows));
  }
  console.log();
}

export function printMemory(memory: MemoryResult): void {
  const delta = memory.after.rss - memory.before.rss;
  console.log(`3. worker memory with ${memory.count} live idle conversations (worker in a child process, RSS after a forced GC)\n`);
  console.log(
    table(
      ['measure', 'value'],
      [
        ['worker RSS before (warmed up by one conversation, none live)', mb(memory.before.rss)],
        [`worker RSS with ${memory.count} live idle conversations`, mb(memory.after.rss)],
        ['growth, total', mb(delta)],
        ['growth per conversation', `${(delta / memory.count / 1024).toFixed(1)} KB`],
        ['  of which main-thread JS heap (workflows run in a worker thread: RSS only)', `${((memory.after.heapUsed - memory.before.heapUsed) / memory.count / 1024).toFixed(1)} KB`],
        [`time to provision all ${memory.count} (50 at a time)`, `${(memory.provisionMs / 1000).toFixed(1)} s`],
      ],
    ),
  );
}
