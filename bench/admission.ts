// Benchmark of per-user admission, in one run on one machine (a private dev server with
// the flags `npm start` uses, the local Runtime API with inproc sandboxes whose start is
// fixed at 150 ms, in-process workers with the real activities):
//   1. start → ready for a user well under the limit, interleaved across three lanes:
//      no limit (the admission activity answers "unlimited" without asking anyone),
//      a limit of 10 with `start` returning at once, and a limit of 10 with `start`
//      waiting for the admission decision (the default);
//   2. under `queue` with limit 1: how long a waiting start takes once the slot frees —
//      from the holder's release to the waiter's grant (read from the two histories),
//      and from the close of the holder to the waiter being ready.
// Run: npx tsx bench/admission.ts   (ITERATIONS=30 to change the sample size)
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { NativeConnection } from '@temporalio/worker';
import type { AdmissionConfig } from '../src/activities/index.js';
import { NO_ADMISSION_LIMIT } from '../src/activities/index.js';
import { buildActivities } from '../src/activities/wiring.js';
import { ConversationClient } from '../src/client.js';
import { EMBEDDED_DYNAMIC_CONFIG } from '../src/temporal/server.js';
import { installTemporalRuntime } from '../src/temporal/runtime.js';
import { createWorker } from '../src/worker.js';
import { buildBundle, startRuntimeApi, startTemporal } from './support/setup.js';
import { median, ms, percentile, table } from './support/stats.js';
import { testDataConverter } from '../test/support/codec.js';

const ITERATIONS = Number(process.env.ITERATIONS ?? 30);
const WARMUP = 3;

interface Lane {
  readonly label: string;
  readonly conversations: ConversationClient;
  readonly waitForAdmission: boolean;
  readonly userId: string;
  close(): Promise<void>;
}

async function startLane(label: string, env: { address: string; bundlePath: string; runtime: Awaited<ReturnType<typeof startRuntimeApi>> }, admission: AdmissionConfig, waitForAdmission: boolean): Promise<Lane> {
  const taskQueue = `bench-admission-${randomBytes(3).toString('hex')}`;
  const wired = buildActivities({ runtimeApiUrl: env.runtime.url, runtimeApiKey: env.runtime.apiKey, admission });
  const native = await NativeConnection.connect({ address: env.address });
  // Encrypted, as every worker and client is (the tests' key).
  const dataConverter = await testDataConverter();
  const worker = await createWorker({ connection: native, namespace: 'default', taskQueue, activities: wired.activities, workflowBundle: { codePath: env.bundlePath }, dataConverter });
  const running = worker.run();
  const connection = await Connection.connect({ address: env.address });
  const conversations = new ConversationClient({ client: new Client({ connection, dataConverter }), taskQueue, runtimeApi: wired.runtimeApi });
  return {
    label,
    conversations,
    waitForAdmission,
    userId: `bench-${taskQueue}`,
    close: async () => {
      worker.shutdown();
      await running;
      await connection.close();
      await native.close();
      await wired.close();
    },
  };
}

/** start → ready (waitUntilReady), then close; returns the start → ready time. */
async function startToReady(lane: Lane, conversationId: string): Promise<number> {
  const began = performance.now();
  await lane.conversations.start({ conversationId, userId: lane.userId, waitForAdmission: lane.waitForAdmission });
  await lane.conversations.waitUntilReady(conversationId);
  const took = performance.now() - began;
  await lane.conversations.close(conversationId);
  await lane.conversations.result(conversationId);
  return took;
}

type Events = NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']>;
const eventTime = (events: Events, match: (event: Events[number]) => boolean) => {
  const found = events.find(match);
  return found ? tsToMs(found.eventTime) : Number.NaN;
};

/** One holder, one waiter (limit 1, queue): the times from the holder's close/release to the waiter's grant and readiness. */
async function queueHandoff(lane: Lane, tag: string): Promise<{ releaseToGrant: number; closeToReady: number }> {
  const holder = `${tag}-holder`;
  const waiter = `${tag}-waiter`;
  await lane.conversations.start({ conversationId: holder, userId: lane.userId });
  await lane.conversations.waitUntilReady(holder);
  const { admission } = await lane.conversations.start({ conversationId: waiter, userId: lane.userId });
  if (admission?.state !== 'waiting') throw new Error(`the second start should wait, got ${JSON.stringify(admission)}`);
  const closed = Date.now();
  await lane.conversations.close(holder);
  await lane.conversations.waitUntilReady(waiter);
  const ready = Date.now();
  const held = (await lane.conversations.temporal.workflow.getHandle(holder).fetchHistory()).events ?? [];
  const waited = (await lane.conversations.temporal.workflow.getHandle(waiter).fetchHistory()).events ?? [];
  const released = eventTime(held, (e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'releaseSlot');
  const granted = eventTime(waited, (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'slotGranted');
  await lane.conversations.close(waiter);
  await lane.conversations.result(waiter);
  await lane.conversations.result(holder);
  return { releaseToGrant: granted - released, closeToReady: ready - closed };
}

async function main(): Promise<void> {
  installTemporalRuntime('error');
  console.log(`admission benchmark: ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${ITERATIONS} runs per lane (+${WARMUP} warm-up)`);
  const temporal = await startTemporal({ ...EMBEDDED_DYNAMIC_CONFIG });
  const runtime = await startRuntimeApi({ startDelayMs: 150 });
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-admission-'));
  const lanes: Lane[] = [];
  try {
    const env = { address: temporal.address, bundlePath: await buildBundle(dir), runtime };
    const limit10: AdmissionConfig = { defaults: { limit: 10, policy: 'evict' } };
    lanes.push(await startLane('no limit', env, NO_ADMISSION_LIMIT, true));
    lanes.push(await startLane('limit 10, start returns at once', env, limit10, false));
    lanes.push(await startLane('limit 10, start waits for admission', env, limit10, true));
    const times = new Map(lanes.map((lane) => [lane.label, [] as number[]]));
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      for (const [k, lane] of lanes.entries()) {
        const took = await startToReady(lane, `bench-adm-${k}-${i}-${randomBytes(2).toString('hex')}`);
        if (i >= WARMUP) times.get(lane.label)?.push(took);
      }
    }
    const base = median(times.get('no limit') ?? []);
    console.log('\n1. start → ready, a user well under the limit (interleaved, same server and Runtime API)\n');
    console.log(
      table(
        ['lane', 'p50', 'p90', 'p50 vs no limit'],
        lanes.map((lane) => {
          const values = times.get(lane.label) ?? [];
          return [lane.label, ms(median(values)), ms(percentile(values, 90)), `${(median(values) / base).toFixed(3)}×`];
        }),
      ),
    );

    const queued = await startLane('limit 1, queue', env, { defaults: { limit: 1, policy: 'queue' } }, true);
    lanes.push(queued);
    const handoffs: Array<{ releaseToGrant: number; closeToReady: number }> = [];
    for (let i = 0; i < Math.max(5, Math.round(ITERATIONS / 2)); i++) handoffs.push(await queueHandoff(queued, `bench-queue-${i}-${randomBytes(2).toString('hex')}`));
    console.log('\n2. under queue (limit 1): a waiting start once the slot frees\n');
    console.log(
      table(
        ['measure', 'p50', 'p90'],
        [
          ['holder releases → waiter granted (server event times)', ms(median(handoffs.map((h) => h.releaseToGrant))), ms(percentile(handoffs.map((h) => h.releaseToGrant), 90))],
          ['client closes holder → waiter ready', ms(median(handoffs.map((h) => h.closeToReady))), ms(percentile(handoffs.map((h) => h.closeToReady), 90))],
        ],
      ),
    );
  } finally {
    for (const lane of lanes) await lane.close();
    await runtime.close();
    await temporal.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
