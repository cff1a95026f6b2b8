// Seconds to recover from a dead worker (issue 8). For each activity of
// ConversationWorkflow, a worker is SIGKILLed while inside it (bench/support/
// recovery-scenarios.ts says how each is entered) with a second worker already polling,
// and the run measures, from the kill:
//   - activity done: the activity's completion as the workflow history records it;
//   - conversation moving: the later of the workflow task that took the result in having
//     completed (history) and an info query showing the conversation changed;
//   - attempts: the attempt that completed it (2 = one retry after the kill);
//   - where the next workflow task was queued: the dead worker's sticky queue (and
//     whether it timed out there) or the normal one.
// Every activity heartbeats each second with a 10 s heartbeat timeout; the target is ≤ 15 s.
// The same scenarios run in lanes that differ only in the workers'
// stickyQueueScheduleToStartTimeout, side by side (each pair at the same time).
// Run: npm run bench -- recovery   (REPEAT=2; ONLY=awaitTurn,pauseRuntime;
// STICKY=10s,default: the lanes' sticky queue timeouts, `default` being the project's)
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { EMBEDDED_DYNAMIC_CONFIG } from '../src/temporal/server.js';
import { installTemporalRuntime } from '../src/temporal/runtime.js';
import { STICKY_QUEUE_TIMEOUT } from '../src/worker.js';
import { KilledTooLateError } from './support/recovery-history.js';
import { measure } from './support/recovery-run.js';
import type { Lane, Sample } from './support/recovery-run.js';
import { SCENARIOS, scenarioName } from './support/recovery-scenarios.js';
import { buildBundle, startTemporal } from './support/setup.js';
import { table } from './support/stats.js';

const REPEAT = Number(process.env.REPEAT ?? 2);
const ONLY = process.env.ONLY ? new Set(process.env.ONLY.split(',').map((s) => s.trim())) : undefined;
const LANES: Lane[] = (process.env.STICKY ?? '10s,default').split(',').map((value) => {
  const sticky = value.trim();
  return sticky === 'default' ? { label: `sticky ${STICKY_QUEUE_TIMEOUT} (project)` } : { label: `sticky ${sticky}`, sticky };
});
const TARGET_S = 15;

const s = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(1));
const cell = (samples: readonly Sample[], pick: (sample: Sample) => number | undefined) => samples.map((x) => s(pick(x))).join(' / ');

/**
 * Where the workflow task after the activity went. A sticky one goes to the worker that
 * ran the workflow last: if that is the dead one, the server either sends the task on to
 * the normal queue at once (no poll from it for 10 s) or lets it time out there.
 */
const nextTask = (x: Sample) => (x.stickyTimeouts > 0 ? `${x.workflowTaskQueue}, ${x.stickyTimeouts} timed out` : x.workflowTaskQueue === 'sticky' ? 'sticky, no wait' : 'normal');

/** The conversation moves once the workflow has acted on the result and an info query shows it. */
const moving = (x: Sample) => Math.max(x.workflowTaskDoneAt, x.movingAt) - x.killedAt;

function report(samples: readonly Sample[]): void {
  const rows: string[][] = [];
  for (const scenario of SCENARIOS) {
    for (const lane of LANES) {
      const mine = samples.filter((x) => x.activity === scenarioName(scenario) && x.lane === lane.label);
      if (mine.length === 0) continue;
      rows.push([
        scenarioName(scenario),
        lane.label,
        cell(mine, (x) => x.doneAt - x.killedAt),
        cell(mine, moving),
        mine.map((x) => `${x.attempt}${x.outcome === 'completed' ? '' : ` (${x.outcome})`}`).join(' / '),
        cell(mine, (x) => x.workflowTaskDoneAt - x.killedAt),
        cell(mine, (x) => x.movingAt - x.killedAt),
        mine.map(nextTask).join(' / '),
        cell(mine, (x) => x.longestQueryMs),
        cell(mine, (x) => (x.workEndedAt === undefined ? undefined : Math.max(0, x.workEndedAt - x.killedAt))),
      ]);
    }
  }
  const header = [
    'activity',
    'workers',
    'kill→activity done (s)',
    'kill→conversation moving (s)',
    'attempts',
    '  of which: workflow task done',
    'info changed',
    'next workflow task',
    'longest query (s)',
    'own work left at kill (s)',
  ];
  console.log(table(header, rows));
  for (const lane of LANES) {
    const mine = samples.filter((x) => x.lane === lane.label);
    const slow = mine.filter((x) => moving(x) > TARGET_S * 1000);
    const worst = Math.max(...mine.map(moving));
    console.log(`\n${lane.label}: worst kill→moving ${s(worst)} s; ${slow.length} of ${mine.length} runs over ${TARGET_S} s` +
      (slow.length > 0 ? `: ${slow.map((x) => `${x.activity} ${s(moving(x))} s`).join(', ')}` : ''));
  }
}

/** Measures again when the kill came too late (a machine so loaded that the turn ended first). */
async function measureOnce(...args: Parameters<typeof measure>): Promise<Sample> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await measure(...args);
    } catch (error) {
      if (!(error instanceof KilledTooLateError) || attempt >= 3) throw error;
      console.log(`  ${scenarioName(args[0])} (${args[1].label}): ${error.message}; measuring again`);
    }
  }
}

async function main(): Promise<void> {
  const began = performance.now();
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`worker recovery benchmark — node ${process.version}, ${cpus().length} CPUs, load average ${load()}`);
  console.log(`${REPEAT} run(s) per activity and lane; lanes: ${LANES.map((l) => l.label).join(', ')}\n`);
  installTemporalRuntime('error');
  const scratch = await mkdtemp(path.join(tmpdir(), 'bench-recovery-'));
  const temporal = await startTemporal(EMBEDDED_DYNAMIC_CONFIG);
  const samples: Sample[] = [];
  try {
    const bundlePath = await buildBundle(scratch);
    const scenarios = SCENARIOS.filter((scenario) => !ONLY || ONLY.has(scenario.activity) || ONLY.has(scenarioName(scenario)));
    for (let round = 0; round < REPEAT; round++) {
      for (const scenario of scenarios) {
        // The lanes run at the same time, so they share whatever load the machine has.
        const measured = await Promise.all(LANES.map((lane) => measureOnce(scenario, lane, temporal, bundlePath)));
        for (const sample of measured) {
          samples.push(sample);
          console.log(`  ${scenarioName(scenario)} (${sample.lane}): activity done ${s(sample.doneAt - sample.killedAt)} s, moving ${s(moving(sample))} s after the kill`);
        }
      }
    }
  } finally {
    await temporal.stop();
    await rm(scratch, { recursive: true, force: true });
  }
  console.log();
  report(samples);
  console.log(`\ntotal benchmark time ${((performance.now() - began) / 1000).toFixed(0)} s; load average now ${load()}`);
}

await main();
