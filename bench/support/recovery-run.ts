// One measurement: a fresh stack (local Runtime API with proxies in front of its control
// plane and its runtimes), a first worker brought inside the scenario's activity, a
// second worker started, the first SIGKILLed; then, from the kill, when the history shows
// the activity done and the next workflow task done, and when an info query (asked from
// the moment the activity is done) first shows the conversation changed.
import type { ConversationInfo } from '../../src/client.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { startConversationStack } from '../../test/support/conversations.js';
import { startFaultProxy } from '../../test/support/fault-proxy.js';
import type { FaultRule } from '../../test/support/fault-proxy.js';
import { uniqueId } from '../../test/support/temporal.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { awaitRecovery } from './recovery-history.js';
import type { Recovery } from './recovery-history.js';
import { scenarioName } from './recovery-scenarios.js';
import type { Rig, Scenario } from './recovery-scenarios.js';
import { spawnRecoveryWorker } from './recovery-worker.js';
import type { RecoveryWorker } from './recovery-worker.js';

export interface Lane {
  readonly label: string;
  /** The workers' stickyQueueScheduleToStartTimeout; undefined = the project's default. */
  readonly sticky?: string;
}

export interface Sample extends Recovery {
  readonly activity: string;
  readonly lane: string;
  readonly killedAt: number;
  /** When the first info query showing a change returned. */
  readonly movingAt: number;
  /** The longest single info query while waiting (a query can wait on the dead worker's sticky queue). */
  readonly longestQueryMs: number;
  /** For a step with work of its own: when that work ended (it could not have completed before). */
  readonly workEndedAt?: number;
}

/** Far longer than any recovery: the held call never completes on the worker that made it. */
const HOLD_MS = 120_000;

async function startRig(scenario: Scenario, address: string): Promise<Rig & { close(): Promise<void> }> {
  const hold = (matcher: Scenario['runtimeCall']): FaultRule[] => (matcher ? [{ matches: matcher(), action: 'hold', holdMs: HOLD_MS, times: 1 }] : []);
  const port = await freePort();
  const runtimeProxy = await startFaultProxy(`http://127.0.0.1:${port}`, hold(scenario.runtimeCall));
  const stack = await startConversationStack({ noWorker: true, address, server: { port, publicUrl: runtimeProxy.url, faults: scenario.faults } });
  const controlProxy = await startFaultProxy(`http://127.0.0.1:${port}`, hold(scenario.controlCall));
  const id = uniqueId(`recovery-${scenario.activity}`);
  return {
    id,
    stack,
    handle: stack.temporal.client.workflow.getHandle(id),
    runtimeProxy,
    controlProxy,
    close: async () => {
      await stack.close();
      await controlProxy.close();
      await runtimeProxy.close();
    },
  };
}

export async function measure(scenario: Scenario, lane: Lane, temporal: { address: string }, bundlePath: string): Promise<Sample> {
  const rig = await startRig(scenario, temporal.address);
  const workers: RecoveryWorker[] = [];
  const spawnOne = async () => {
    const worker = await spawnRecoveryWorker({
      address: temporal.address,
      taskQueue: rig.stack.temporal.taskQueue,
      runtimeApiUrl: rig.controlProxy.url,
      runtimeApiKey: rig.stack.runtimeApiKey,
      bundlePath,
      stickyQueueScheduleToStartTimeout: lane.sticky,
    });
    workers.push(worker);
    return worker;
  };
  try {
    const first = await spawnOne();
    await scenario.enter(rig);
    const enteredAt = Date.now();
    await spawnOne();
    if (scenario.killAt) await sleep(Math.max(0, scenario.killAt(enteredAt) - Date.now()));
    const before = await rig.stack.conversations.info(rig.id);
    const killedAt = Date.now();
    await first.kill('SIGKILL');
    const workEnded = scenario.workEnded?.(rig);
    // Queries start only once the activity is done: a query that finds the dead worker's
    // sticky queue resets the workflow's stickiness, which would spare the next workflow
    // task the wait this benchmark is to show.
    let activityDone!: () => void;
    const done = new Promise<void>((resolve) => (activityDone = resolve));
    const [recovery, moving, workEndedAt] = await Promise.all([
      awaitRecovery(rig.handle, scenario.activity, { enteredAt, killedAt }, () => activityDone()),
      done.then(() => watchInfo(rig, before)),
      workEnded,
    ]);
    return { activity: scenarioName(scenario), lane: lane.label, killedAt, ...recovery, ...moving, workEndedAt };
  } finally {
    for (const worker of workers) await worker.kill();
    await rig.close();
  }
}

/** Polls the info query until it differs from `before`. */
async function watchInfo(rig: Rig, before: ConversationInfo, timeoutMs = 180_000): Promise<{ movingAt: number; longestQueryMs: number }> {
  const deadline = Date.now() + timeoutMs;
  const seen = JSON.stringify(before);
  let longestQueryMs = 0;
  while (Date.now() < deadline) {
    const asked = Date.now();
    const info = await rig.stack.conversations.info(rig.id);
    const answeredAt = Date.now();
    longestQueryMs = Math.max(longestQueryMs, answeredAt - asked);
    if (JSON.stringify(info) !== seen) return { movingAt: answeredAt, longestQueryMs };
    await sleep(200);
  }
  throw new Error(`${rig.id}: the conversation did not change within ${timeoutMs} ms of the kill`);
}
