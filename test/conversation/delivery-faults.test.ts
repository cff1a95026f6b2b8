// Faults between posting a message and learning that it arrived, against real parts: the
// answer to the POST is cut after the agent server saved the message; the worker dies
// while that answer is still on its way; the runtime dies mid-turn. Agent servers keep no
// idempotency (the real one ignores Idempotency-Key), so each test counts the user
// message events the agent holds. Figures checked: user messages per message sent = 1
// (messages lost 0, doubled 0), conversations in ERROR 0.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/temporal/dev-server.js';
import { agentReplies, startConversationStack, userMessages, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { postsMessage, startFaultProxy } from '../support/fault-proxy.js';
import type { FaultProxy, FaultRule } from '../support/fault-proxy.js';
import { uniqueId } from '../support/temporal.js';
import { spawnWorker } from '../support/worker-process.js';
import type { WorkerProcess } from '../support/worker-process.js';

/** A stack whose runtime URLs lead through a fault proxy, so agent-server traffic passes it. */
async function stackBehindProxy(rules: readonly FaultRule[], options: { noWorker?: boolean } = {}): Promise<{ stack: ConversationStack; proxy: FaultProxy }> {
  const port = await freePort();
  const proxy = await startFaultProxy(`http://127.0.0.1:${port}`, rules);
  const stack = await startConversationStack({ noWorker: options.noWorker, server: { port, publicUrl: proxy.url } });
  return { stack, proxy };
}

describe('delivery when the answer to a posted message is lost (shell agent)', () => {
  let stack: ConversationStack;
  let proxy: FaultProxy;
  before(async () => {
    ({ stack, proxy } = await stackBehindProxy([{ matches: postsMessage, action: 'cut', times: 1 }]));
  });
  after(async () => {
    await stack.close();
    await proxy.close();
  });

  test('the connection is cut after the server saved the message: the agent holds it once and answers once', async () => {
    const { conversations } = stack;
    const id = uniqueId('cut');
    await conversations.start({ conversationId: id, userId: 'ann', message: { text: 'echo once', messageId: 'm1' } });
    const done = await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0, 60_000);
    assert.equal(proxy.applied[0], 1, 'the fault was played');
    assert.equal(done.status, 'RUNNING');
    assert.equal(done.delivered, 1);
    assert.deepEqual(await userMessages(conversations, id), ['echo once']);
    assert.deepEqual(await agentReplies(conversations, id), ['once\n']);

    await conversations.send(id, { text: 'echo twice', messageId: 'm2' });
    await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm2' && i.queued === 0);
    assert.deepEqual(await userMessages(conversations, id), ['echo once', 'echo twice']);
    await conversations.close(id);
  });
});

describe('delivery when the worker dies between the POST and the activity completing (shell agent)', () => {
  let stack: ConversationStack;
  let proxy: FaultProxy;
  const workers: WorkerProcess[] = [];
  const newWorker = async () => {
    const worker = await spawnWorker({ taskQueue: stack.temporal.taskQueue, runtimeApiUrl: stack.server.url, runtimeApiKey: stack.runtimeApiKey });
    workers.push(worker);
    return worker;
  };
  before(async () => {
    // The server answers at once; the proxy sits on the answer long past the worker's death.
    ({ stack, proxy } = await stackBehindProxy([{ matches: postsMessage, action: 'hold', holdMs: 120_000, times: 1 }], { noWorker: true }));
  });
  after(async () => {
    for (const worker of workers) await worker.kill();
    await stack.close();
    await proxy.close();
  });

  test('SIGKILL while the answer is in flight: another worker finds the message there, posts nothing, and the turn completes', async () => {
    const { conversations } = stack;
    const id = uniqueId('kill-post');
    const first = await newWorker();
    await conversations.start({ conversationId: id, userId: 'bea', message: { text: 'echo only-once', messageId: 'm1' } });
    await proxy.answered(0);
    await newWorker();
    const killedAt = Date.now();
    await first.kill('SIGKILL');

    const done = await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0, 90_000);
    const recoveryMs = Date.now() - killedAt;
    console.log(`[figure] worker SIGKILL mid-delivery → turn ended: ${recoveryMs} ms`);
    assert.deepEqual(await userMessages(conversations, id), ['echo only-once'], 'posted once, never again');
    assert.deepEqual(await agentReplies(conversations, id), ['only-once\n']);
    assert.equal(done.delivered, 1);
    // The heartbeat timeout (10 s) bounds it; the margin is for a loaded CI machine.
    assert.ok(recoveryMs < 60_000, `recovered in ${recoveryMs} ms`);
    await conversations.close(id);
    assert.equal((await conversations.result(id)).info.status, 'ARCHIVED');
  });
});

describe('a runtime that dies mid-turn (shell agent)', () => {
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack();
  });
  after(async () => {
    await stack.close();
  });

  test('its sandbox is SIGKILLed during a turn: the message is delivered again to the restarted runtime, once, and recorded', async () => {
    const { conversations, server } = stack;
    const id = uniqueId('midturn');
    await conversations.start({ conversationId: id, userId: 'cat', message: { text: 'sleep 30; echo slow', messageId: 'slow' } });
    const running = await waitForInfo(conversations, id, (i) => i.turnMessageId === 'slow' && i.executionStatus === 'running', 60_000);
    process.kill(server.sandboxPid(running.runtimeId!)!, 'SIGKILL');
    // The new sandbox has no memory of the conversation: it gets the message again. The
    // sleep is cut so the test does not wait for it twice.
    const done = await waitForInfo(conversations, id, (i) => i.redelivered === 1 && i.turnMessageId === 'slow', 90_000);
    assert.equal(done.status, 'RUNNING');
    assert.match(done.notice ?? '', /message slow was delivered again/);
    assert.deepEqual(await userMessages(conversations, id), ['sleep 30; echo slow'], 'once on the restarted runtime');
    assert.equal(done.delivered, 1, 'one message from the user');
    await conversations.close(id);
    const result = await conversations.result(id);
    assert.equal(result.info.status, 'ARCHIVED');
  });
});

describe('a message the runtime refuses (shell agent behind a proxy answering 413)', () => {
  let stack: ConversationStack;
  let proxy: FaultProxy;
  before(async () => {
    ({ stack, proxy } = await stackBehindProxy([{ matches: postsMessage, action: 'refuse', status: 413, times: 1 }]));
  });
  after(async () => {
    await stack.close();
    await proxy.close();
  });

  test('is reported to the waiting sender, in info and as a notice; the next message goes through', async () => {
    const { conversations } = stack;
    const id = uniqueId('refused');
    await conversations.start({ conversationId: id, userId: 'gus' });
    await conversations.waitUntilReady(id);
    const refused = await conversations.send(id, { text: 'echo too-big', messageId: 'big', waitFor: 'turn' });
    assert.equal(refused?.outcome?.result, 'refused');
    assert.match(refused?.outcome?.reason ?? '', /413/);
    const info = await conversations.info(id);
    assert.equal(info.refused, 1);
    assert.equal(info.lastRefused?.messageId, 'big');
    assert.equal(info.status, 'RUNNING');

    const answered = await conversations.send(id, { text: 'echo fine', messageId: 'ok', waitFor: 'turn' });
    assert.deepEqual(answered?.outcome, { messageId: 'ok', result: 'answered', executionStatus: 'finished' });
    assert.deepEqual(await userMessages(conversations, id), ['echo fine']);
    await conversations.close(id);
  });
});
