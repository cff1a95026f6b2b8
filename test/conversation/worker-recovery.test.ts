// Recovery from a worker SIGKILLed inside the two activities that took longest to recover
// in bench/recovery.ts: provisionRuntime in its ensure step (its POST /start answered by the
// Runtime API but held on the way back) and awaitTurn (a turn still running, 30 s so that the third worker has
// started on a loaded machine before it ends). Each time a second worker is already
// polling, and a message is sent while the dead worker's activity is still pending.
// Figures checked: the cut activity completed on a retry (attempt 2), user messages per
// message sent = 1 (none lost, none doubled), one runtime throughout. Recovery times are
// logged; the bound asserted is loose (60 s) because CI is a loaded 2-core machine.
// Until the cut activity is done the test reads only the history: an info query in the
// first few hundred ms after a SIGKILL can be handed to the dead worker's sticky poller
// and fail with CANCELLED (seen about once in ten kills, whatever the sticky timeout).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/temporal/dev-server.js';
import { completedAttempts, insideActivity, untilCompleted } from '../support/activity-history.js';
import { agentReplies, startConversationStack, userMessages, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import type { FaultProxy } from '../support/fault-proxy.js';
import { uniqueId } from '../support/temporal.js';
import { spawnWorker } from '../support/worker-process.js';
import type { WorkerProcess } from '../support/worker-process.js';

const LOOSE_BOUND_MS = 60_000;

describe('a worker SIGKILLed inside provisionRuntime (its POST /start), then inside awaitTurn (shell agent)', () => {
  let stack: ConversationStack;
  let control: FaultProxy;
  const workers: WorkerProcess[] = [];
  const newWorker = async () => {
    const worker = await spawnWorker({ taskQueue: stack.temporal.taskQueue, runtimeApiUrl: control.url, runtimeApiKey: stack.runtimeApiKey });
    workers.push(worker);
    return worker;
  };
  before(async () => {
    // The workers reach the Runtime API through a proxy that holds the first start's answer
    // far past the worker's death; the runtime itself is created (and starting) by then.
    const port = await freePort();
    control = await startFaultProxy(`http://127.0.0.1:${port}`, [
      { matches: (method, path) => method === 'POST' && path === '/start', action: 'hold', holdMs: 120_000, times: 1 },
    ]);
    stack = await startConversationStack({ noWorker: true, server: { port } });
  });
  after(async () => {
    for (const worker of workers) await worker.kill();
    await stack.close();
    await control.close();
  });

  test('each time another worker finishes the activity and the conversation goes on with one runtime and no message lost', async () => {
    const { conversations } = stack;
    const id = uniqueId('worker-recovery');
    const handle = stack.temporal.client.workflow.getHandle(id);
    const first = await newWorker();
    await conversations.start({ conversationId: id, userId: uniqueId('dan'), message: { text: 'echo one', messageId: 'm1' } });
    await control.answered(0);
    const second = await newWorker();
    let killedAt = Date.now();
    await first.kill('SIGKILL');
    await conversations.send(id, { text: 'echo two', messageId: 'm2' }, 'signal');
    assert.deepEqual(await untilCompleted(handle, 'provisionRuntime', 1), [2], 'the start was completed by a retry');
    await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm2' && i.queued === 0, 120_000);
    const afterStart = Date.now() - killedAt;
    console.log(`[figure] worker SIGKILL inside provisionRuntime (POST /start) → runtime adopted and both messages answered: ${afterStart} ms`);
    assert.ok(afterStart < LOOSE_BOUND_MS, `recovered in ${afterStart} ms`);

    await conversations.send(id, { text: 'sleep 30; echo three', messageId: 'm3' });
    await insideActivity(handle, 'awaitTurn');
    await newWorker();
    killedAt = Date.now();
    await second.kill('SIGKILL');
    await conversations.send(id, { text: 'echo four', messageId: 'm4' }, 'signal');
    assert.deepEqual(await untilCompleted(handle, 'awaitTurn', 3), [1, 1, 2], 'the cut turn was followed to its end by a retry');
    const done = await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm4' && i.queued === 0, 120_000);
    const afterTurn = Date.now() - killedAt;
    console.log(`[figure] worker SIGKILL inside awaitTurn (a 30 s turn) → that turn and the next message answered: ${afterTurn} ms`);
    assert.deepEqual(await completedAttempts(handle, 'awaitTurn'), [1, 1, 2, 1]);
    assert.ok(afterTurn < LOOSE_BOUND_MS, `recovered in ${afterTurn} ms`);

    const texts = ['echo one', 'echo two', 'sleep 30; echo three', 'echo four'];
    assert.deepEqual(await userMessages(conversations, id), texts);
    assert.deepEqual(await agentReplies(conversations, id), ['one\n', 'two\n', 'three\n', 'four\n']);
    assert.equal(done.delivered, 4);
    assert.equal(done.runtimesReplaced, 0);
    const live = (await stack.runtimeApi.list()).runtimes.filter((r) => r.session_id === id && r.status !== 'stopped');
    assert.equal(live.length, 1, 'the retried start adopted the runtime the first one created');
    await conversations.close(id);
    assert.equal((await conversations.result(id)).info.status, 'ARCHIVED');
  });
});
