// Per-user admission under load, with real parts: two worker processes, two client
// processes starting 50 conversations of one user at once, real sandboxes, and a watch
// on the Runtime API's GET /list throughout that must never see more than the limit of
// that user's runtimes running. Policies come from the workers' configuration: evict by
// default, queue and reject by per-user override.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { ConversationInfo } from '../../src/client.js';
import { TOO_MANY_CONVERSATIONS } from '../../src/workflows/admission/messages.js';
import { startFromTwoProcesses, watchRunning } from '../support/admission-load.js';
import type { RunningWatch } from '../support/admission-load.js';
import { startConversationStack } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';
import { spawnWorker } from '../support/worker-process.js';
import type { WorkerProcess } from '../support/worker-process.js';
import { sessionRuntimes } from './support.js';

const LIMIT = 3;
const STARTS = 50;
/** Longer than any scenario: an idle pause would free a slot the scenario counts on. */
const IDLE_NEVER = 30 * 60_000;

// The scenarios run at once, each for its own user: they share the workers (and the SIGKILL), and the
// file takes as long as the slowest rather than their sum.
describe('per-user admission: 50 concurrent starts of one user, limit 3, two clients, two workers', { concurrency: true }, () => {
  let stack: ConversationStack;
  let watch: RunningWatch;
  const workers: WorkerProcess[] = [];
  const base = uniqueId('adm');
  const users = { evict: `${base}-evict`, queue: `${base}-queue`, reject: `${base}-reject`, terminate: `${base}-term` };
  const idsOf = (userId: string) => Array.from({ length: STARTS }, (_, k) => `${userId}-c${k}`);
  const newWorker = async () => {
    const worker = await spawnWorker({
      taskQueue: stack.temporal.taskQueue,
      runtimeApiUrl: stack.server.url,
      runtimeApiKey: stack.runtimeApiKey,
      env: {
        ADMISSION_LIMIT: String(LIMIT),
        ADMISSION_POLICY: 'evict',
        ADMISSION_USER_OVERRIDES: JSON.stringify({ [users.queue]: { policy: 'queue' }, [users.reject]: { policy: 'reject' }, [users.terminate]: { policy: 'queue' } }),
      },
    });
    workers.push(worker);
    return worker;
  };
  const job = (userId: string, idleDelayMs: number) => ({
    address: process.env.TEMPORAL_ADDRESS as string,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: stack.temporal.taskQueue,
    userId,
    idleDelayMs,
  });

  /** Every conversation's info, once `predicate` holds for all (a query may fail for a moment after a SIGKILL: asked again). */
  const waitForAll = async (ids: readonly string[], predicate: (info: ConversationInfo) => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    let infos: ConversationInfo[] = [];
    while (Date.now() < deadline) {
      infos = (await Promise.all(ids.map((id) => stack.conversations.info(id).catch(() => undefined)))).filter((i) => i !== undefined);
      if (infos.length === ids.length && infos.every(predicate)) return infos;
      await sleep(1_000); // gently: each waiting conversation's info also asks its user's admission workflow
    }
    const pending = infos.filter((i) => !predicate(i)).slice(0, 3);
    throw new Error(`not all ${ids.length} conversations got there in ${timeoutMs} ms (${infos.length} answered); e.g. ${JSON.stringify(pending)}`);
  };
  const answered = (info: ConversationInfo) => info.delivered === 1 && info.lastTurn !== undefined && info.queued === 0;

  /** Closes the conversations, then checks that the user's admission workflow holds and queues nothing: no slot leaked. */
  const closeAllAndCheckNoLeak = async (userId: string, ids: readonly string[]) => {
    await Promise.all(ids.map((id) => stack.conversations.close(id).catch(() => undefined)));
    await waitForAll(ids, (i) => i.status === 'ARCHIVED' || i.status === 'ERROR', 60_000);
    const deadline = Date.now() + 20_000;
    let status = await stack.conversations.userAdmission(userId);
    while ((status?.held.length !== 0 || status.queue.length !== 0) && Date.now() < deadline) {
      await sleep(200);
      status = await stack.conversations.userAdmission(userId);
    }
    assert.deepEqual({ held: status?.held, queue: status?.queue }, { held: [], queue: [] }, 'every slot came back');
    return status;
  };

  before(async () => {
    stack = await startConversationStack({ noWorker: true });
    await Promise.all([newWorker(), newWorker()]);
    watch = watchRunning(stack.runtimeApi, Object.values(users).map((u) => `${u}-`));
  });
  after(async () => {
    await watch?.stop();
    for (const worker of workers) await worker.kill();
    await stack.close();
  });

  test('reject: 3 start, 47 get ConversationLimitError naming the limit, and nothing is started for them', async () => {
    const ids = idsOf(users.reject);
    const outcomes = await startFromTwoProcesses(job(users.reject, IDLE_NEVER), ids);
    const started = outcomes.filter((o) => o.started);
    const refused = outcomes.filter((o) => !o.started);
    assert.equal(started.length, LIMIT, JSON.stringify(outcomes.slice(0, 5)));
    assert.equal(refused.length, STARTS - LIMIT);
    for (const outcome of refused) assert.deepEqual(outcome, { conversationId: outcome.conversationId, started: false, limit: LIMIT, error: 'ConversationLimitError' });
    await waitForAll(started.map((o) => o.conversationId), answered, 60_000);
    for (const { conversationId } of refused) assert.deepEqual(await sessionRuntimes(stack, conversationId), [], `no runtime for ${conversationId}`);
    assert.ok(watch.max(`${users.reject}-`) <= LIMIT, `at most ${LIMIT} running, saw ${watch.max(`${users.reject}-`)}`);
    const status = await closeAllAndCheckNoLeak(users.reject, started.map((o) => o.conversationId));
    assert.equal(status?.rejected, STARTS - LIMIT);
  });

  test('queue: every start waits its turn and runs in arrival order as slots free up', async () => {
    const ids = idsOf(users.queue);
    // A short idle delay frees each slot soon after its conversation's first turn.
    const outcomes = await startFromTwoProcesses(job(users.queue, 200), ids);
    assert.deepEqual(outcomes.filter((o) => !o.started), []);
    assert.ok(outcomes.filter((o) => o.started && o.admission === 'waiting').length >= STARTS - LIMIT - 5, 'most of them queued');
    const infos = await waitForAll(ids, answered, 600_000);
    // First in, first out: in order of arrival at the admission workflow, the grants are in order too.
    const byArrival = [...infos].sort((a, b) => (a.admission?.seq ?? 0) - (b.admission?.seq ?? 0));
    assert.deepEqual(byArrival.map((i) => i.admission?.grant), [...byArrival.map((i) => i.admission?.grant)].sort((a, b) => (a ?? 0) - (b ?? 0)));
    assert.equal(new Set(infos.map((i) => i.admission?.seq)).size, STARTS, 'each start arrived once');
    assert.ok(watch.max(`${users.queue}-`) <= LIMIT, `at most ${LIMIT} running, saw ${watch.max(`${users.queue}-`)}`);
    assert.equal(watch.max(`${users.queue}-`), LIMIT, 'the slots were used');
    await closeAllAndCheckNoLeak(users.queue, ids);
  });

  test('evict, with a worker SIGKILLed while admitting: the oldest are paused with the reason, each resumes on its next message, no slot leaks', async () => {
    const ids = idsOf(users.evict);
    const starting = startFromTwoProcesses(job(users.evict, IDLE_NEVER), ids);
    // Kill a worker in the thick of it: admissions, grants and evictions are in flight on both.
    const deadline = Date.now() + 60_000;
    while (((await stack.conversations.userAdmission(users.evict).catch(() => undefined))?.granted ?? 0) < 10 && Date.now() < deadline) await sleep(100);
    await workers[0]?.kill('SIGKILL');
    await newWorker();
    const outcomes = await starting;
    assert.deepEqual(outcomes.filter((o) => !o.started), []);

    const infos = await waitForAll(ids, (i) => answered(i) && i.admission?.state !== 'waiting' && (i.status === 'STOPPED' || i.status === 'RUNNING'), 600_000);
    const running = infos.filter((i) => i.status === 'RUNNING');
    const paused = infos.filter((i) => i.status === 'STOPPED');
    assert.equal(running.length, LIMIT, `running: ${running.map((i) => i.conversationId).join(', ')}`);
    for (const info of paused) assert.equal(info.stopReason, TOO_MANY_CONVERSATIONS, `${info.conversationId} records why it was paused`);
    // The oldest (the first three admitted) made room. Which ones still run depends on whose turn
    // ended first while every slot was busy, so only the oldest are named here.
    const oldest = infos.filter((i) => (i.admission?.grant ?? 0) <= LIMIT);
    assert.equal(oldest.length, LIMIT);
    for (const info of oldest) assert.equal(info.stopReason, TOO_MANY_CONVERSATIONS, `${info.conversationId}, among the first admitted, was paused to make room`);

    // Each paused one resumes on its next message (and another makes room for it).
    for (const info of paused.slice(0, 3)) {
      const ack = await stack.conversations.send(info.conversationId, { text: 'echo back', waitFor: 'turn' });
      assert.equal(ack?.outcome?.result, 'answered');
      const resumed = await stack.conversations.info(info.conversationId);
      assert.equal(resumed.stopReason, undefined);
    }
    assert.ok(watch.max(`${users.evict}-`) <= LIMIT, `at most ${LIMIT} running, saw ${watch.max(`${users.evict}-`)}`);
    const status = await closeAllAndCheckNoLeak(users.evict, ids);
    assert.ok((status?.evicted ?? 0) >= STARTS - LIMIT + 3);
  });

  test('a conversation terminated by an operator gives its slot back', async () => {
    const userId = users.terminate;
    const ids = [0, 1, 2, 3].map((k) => `${userId}-t${k}`);
    for (const id of ids.slice(0, 3)) await stack.conversations.start({ conversationId: id, userId, message: { text: 'echo held' } });
    await waitForAll(ids.slice(0, 3), answered, 60_000);
    const terminated = ids[0] as string;
    await stack.temporal.client.workflow.getHandle(terminated).terminate('operator test');

    // The fourth would queue behind three holders; the admission workflow finds the terminated one and takes its slot back.
    await stack.conversations.start({ conversationId: ids[3] as string, userId, message: { text: 'echo fourth' } });
    await waitForAll([ids[3] as string], answered, 60_000);
    const status = await stack.conversations.userAdmission(userId);
    assert.ok(!status?.held.some((h) => h.conversationId === terminated), 'the terminated one holds nothing');
    assert.equal(status?.reclaimed, 1);
    const runtimes = await sessionRuntimes(stack, terminated);
    assert.deepEqual(runtimes.map((r) => r.status), ['paused'], 'its runtime no longer runs');
    assert.ok(watch.max(`${userId}-`) <= LIMIT, `at most ${LIMIT} running, saw ${watch.max(`${userId}-`)}`);
    await closeAllAndCheckNoLeak(userId, ids.slice(1));
  });
});
