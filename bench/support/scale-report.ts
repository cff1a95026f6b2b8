// The scale benchmark's printed tables, each figure beside its target (issue 13).
import type { ResumeSample, ScaleMemory } from './idle-scale.js';
import type { RateResult } from './message-rate.js';
import type { CpuReading } from './process-cpu.js';
import { mb, median, ms, percentile, table } from './stats.js';

const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
const p = (values: readonly number[], q: number) => percentile(values, q);
const GIB = 2 ** 30;

export function printScaleMemory(m: ScaleMemory, load: string): void {
  const cached = Math.min(m.cacheSize, m.count);
  const perCached = (m.atCache.rss - m.before.rss) / cached;
  const perUncached = m.count > cached ? (m.atAll.rss - m.atCache.rss) / (m.count - cached) : Number.NaN;
  const kb = (bytes: number) => (Number.isNaN(bytes) ? '-' : `${(bytes / 1024).toFixed(1)} KB`);
  const at10k = m.before.rss + cached * perCached + (10_000 - cached) * perUncached;
  console.log(`1. ${m.count} live idle conversations on one worker, sticky cache ${m.cacheSize} (worker in a child process, RSS after a forced GC; load average ${load})\n`);
  console.log(
    table(
      ['measure', 'value'],
      [
        ['worker RSS, warmed up, no conversation live', mb(m.before.rss)],
        [`worker RSS with the first ${cached} live (the cache full)`, mb(m.atCache.rss)],
        [`worker RSS with all ${m.count} live`, `${mb(m.atAll.rss)} (target ≤ 1024 MB at 10,000: ${m.count >= 10_000 ? verdict(m.atAll.rss <= GIB) : 'see the projection'})`],
        ['per conversation, all of them', kb((m.atAll.rss - m.before.rss) / m.count)],
        ['  per cached conversation (the first ones)', kb(perCached)],
        ['  per conversation outside the cache (the rest)', kb(perUncached)],
        ['  main-thread JS heap per conversation (workflows run in a worker thread)', kb((m.atAll.heapUsed - m.before.heapUsed) / m.count)],
        // Linear from a few hundred: an upper bound. Past the cache the growth flattens as the workflow thread's heap settles (SCALE=full: 4 KB each from 500 to 10,000).
        // A few hundred outside the cache can cost less than the RSS's own noise (it even falls when a GC compacts): no projection then.
        ...(m.count < 10_000 && !Number.isNaN(perUncached) ? [projection(at10k, perUncached)] : []),
        [`time to bring all ${m.count} up (50 at a time)`, `${(m.provisionMs / 1000).toFixed(0)} s`],
        ['worker RSS as they came up (live: MB)', m.steps.map((s) => `${s.live}: ${(s.rss / 2 ** 20).toFixed(0)}`).join(', ')],
      ],
    ),
  );
  console.log();
}

function projection(at10k: number, perUncached: number): [string, string] {
  const label = 'projected RSS at 10,000 (linear from the two costs above: an upper bound; SCALE=full measures it)';
  if (perUncached <= 0) return [label, '- (the conversations outside the cache cost less than the RSS moves by itself at this size)'];
  return [label, `${mb(at10k)} (${at10k <= GIB ? 'within' : 'over'} 1024 MB)`];
}

export function printFirstMessages(r: { uncached: number[]; cached: number[] }, cacheSize: number, load: string): void {
  console.log(`   first message to an idle conversation, send() → agent server recorded it; ${r.cached.length} each, alternating (load average ${load})\n`);
  const row = (label: string, v: number[]) => [label, ms(p(v, 50)), ms(p(v, 99)), ms(Math.max(...v))];
  console.log(table(['conversation', 'p50', 'p99', 'max'], [row(`out of the cache (among the oldest; cache ${cacheSize})`, r.uncached), row('in the cache (the newest)', r.cached)]));
  const ratio50 = median(r.uncached) / median(r.cached);
  const ratio99 = p(r.uncached, 99) / p(r.cached, 99);
  console.log(`\n   uncached / cached: p50 ${ratio50.toFixed(2)}×, p99 ${ratio99.toFixed(2)}× (target ≤ 2×: ${verdict(ratio50 <= 2 && ratio99 <= 2)})\n`);
}

export function printResumes(samples: readonly ResumeSample[], load: string): void {
  const total = samples.map((s) => s.totalMs);
  const runtime = samples.map((s) => s.runtimeMs);
  const overhead = samples.map((s) => s.totalMs - s.runtimeMs);
  console.log(`2. message to a paused conversation → delivered, ${samples.length} conversations, one at a time (load average ${load})\n`);
  const row = (label: string, v: number[]) => [label, ms(p(v, 50)), ms(p(v, 99)), ms(Math.max(...v))];
  console.log(
    table(
      ['measure', 'p50', 'p99', 'max'],
      [
        row('send() → delivered', total),
        row('  the runtime\'s own resume (POST /resume + wait until alive)', runtime),
        row('  overhead: the rest', overhead),
      ],
    ),
  );
  const typical = samples[Math.floor(samples.length / 2)];
  if (typical) console.log(`\n   between the signal and the delivery (median: ${median(samples.map((s) => s.workflowTasks))} workflow tasks, ${ms(median(samples.map((s) => s.queuedMs)))} of it queued): ${typical.activities}`);
  console.log(`\n   resume overhead p50 ${ms(p(overhead, 50))}, p99 ${ms(p(overhead, 99))} (target ≤ 50 ms: p50 ${verdict(p(overhead, 50) <= 50)}, p99 ${verdict(p(overhead, 99) <= 50)})\n`);
}

interface CeilingResults {
  readonly live: number;
  readonly bursts: Record<string, RateResult[]>;
  /** CPU ms per message by component, one reading per burst. */
  readonly cpu: Record<string, CpuReading[]>;
  /** How long each burst was left to settle before its CPU was read. */
  readonly settleMs: number;
  readonly paced: Record<string, RateResult>;
  readonly pacedGapMs: number;
}

export function printCeiling(r: CeilingResults, load: string): void {
  console.log(`3. ceiling: ${r.live} live workflows of each kind on one server; a burst sends one message to each, 32 signals in flight (load average ${load})\n`);
  const rows: string[][] = [];
  for (const [name, results] of Object.entries(r.bursts)) {
    for (const [i, b] of results.entries()) rows.push([i === 0 ? name : '', `burst ${i + 1}`, b.perSecond.toFixed(0), ms(p(b.latencies, 50)), ms(p(b.latencies, 99))]);
  }
  for (const [name, b] of Object.entries(r.paced)) rows.push([name, `paced, ${r.pacedGapMs} ms apart (${b.messages})`, '', ms(p(b.latencies, 50)), ms(p(b.latencies, 99))]);
  console.log(table(['workflow', 'run', 'messages/s', 'p50', 'p99'], rows));
  const best = (name: string) => Math.max(...(r.bursts[name] ?? []).map((b) => b.perSecond));
  const ratio = best('conversations') / best('ceiling');
  const p99 = p(r.paced.conversations?.latencies ?? [], 99);
  console.log(`\n   conversations / ceiling, best burst each: ${ratio.toFixed(2)} (target ≥ 0.8: ${verdict(ratio >= 0.8)})`);
  console.log(`   conversations, paced: p99 signal → delivered ${ms(p99)} (target ≤ 50 ms: ${verdict(p99 <= 50)})\n`);
  printCeilingCpu(r.cpu, r.settleMs);
}

/** The component of the readings that holds the client, the Runtime API and the in-process agent servers, and their commands. */
const RUNTIME_SIDE = ['this process (client, Runtime API)', 'its commands, reaped (in-process agents)'];

/**
 * CPU per message by component, and what it bounds: with both cores busy, messages/s is
 * about the inverse of the CPU a message costs. A conversation's message also costs the
 * agent's own work (its server, the command it runs), on the same two cores here; even if
 * the server and worker spent no more on a conversation's message than on the ceiling's,
 * that work alone would hold the ratio to ceiling / (ceiling + agent's work).
 */
function printCeilingCpu(cpu: Record<string, CpuReading[]>, settleMs: number): void {
  const mean = (name: string) => {
    const readings = cpu[name] ?? [];
    const components = Object.keys(readings[0] ?? {});
    return Object.fromEntries(components.map((c) => [c, readings.reduce((sum, r) => sum + (r[c] ?? 0), 0) / Math.max(1, readings.length)]));
  };
  const ceiling = mean('ceiling');
  const conversations = mean('conversations');
  const total = (reading: Record<string, number>) => Object.values(reading).reduce((a, b) => a + b, 0);
  const runtimeSide = (reading: Record<string, number>) => RUNTIME_SIDE.reduce((sum, c) => sum + (reading[c] ?? 0), 0);
  const cell = (v: number | undefined) => `${(v ?? 0).toFixed(1)} ms`;
  console.log(`   CPU per message, every process on the machine (mean of the bursts; read after each burst settled for ${settleMs / 1000} s)\n`);
  const rows = Object.keys(conversations).map((c) => [c, cell(ceiling[c]), cell(conversations[c])]);
  rows.push(['total', cell(total(ceiling)), cell(total(conversations))]);
  console.log(table(['component', 'ceiling', 'conversations'], rows));
  const agentWork = Math.max(0, runtimeSide(conversations) - runtimeSide(ceiling));
  const bound = total(ceiling) / (total(ceiling) + agentWork);
  console.log(`\n   CPU ratio ceiling / conversations: ${(total(ceiling) / total(conversations)).toFixed(2)}`);
  console.log(`   the agent's own work (agent servers and their commands, beyond the ceiling's client): ${cell(agentWork)} a message; with it on these cores, the ratio could reach at most ${bound.toFixed(2)} even if the server and worker spent no more on a conversation's message than on the ceiling's\n`);
}
