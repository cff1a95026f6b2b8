import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { agentReplies, startConversationStack, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';
import { spawnWorker } from '../support/worker-process.js';
import { untilSessionRuntime } from './support.js';
import type { WorkerProcess } from '../support/worker-process.js';

describe('a worker killed with SIGKILL', () => {
  let stack: ConversationStack;
  const workers: WorkerProcess[] = [];
  const newWorker = async () => {
    const worker = await spawnWorker({ taskQueue: stack.temporal.taskQueue, runtimeApiUrl: stack.server.url, runtimeApiKey: stack.runtimeApiKey });
    workers.push(worker);
    return worker;
  };

  before(async () => {
    // Slow starts keep provisioning in progress long enough to kill the worker inside it.
    stack = await startConversationStack({ noWorker: true, server: { faults: { startDelayMs: 3_000 } } });
  });
  after(async () => {
    for (const worker of workers) await worker.kill();
    await stack.close();
  });

  test('mid-provisioning and mid-conversation: the conversation completes on new workers with one runtime and no message lost', async () => {
    const { conversations, runtimeApi } = stack;
    const id = uniqueId('crash');
    const first = await newWorker();
    await conversations.start({ conversationId: id, userId: uniqueId('carol'), message: { text: 'echo one' } });
    // Inside provisioning, after POST /start: the Runtime API has the session's runtime, still
    // starting (the workflow learns its ID only once the one provisioning activity has ended).
    await untilSessionRuntime(stack, id);
    assert.equal((await conversations.info(id)).status, 'STARTING', 'killed mid-provisioning');
    await first.kill('SIGKILL');
    // Sent while no worker runs at all: Temporal keeps it until one does.
    await conversations.send(id, { text: 'echo two' }, 'signal');

    await newWorker();
    await waitForInfo(conversations, id, (info) => info.delivered === 2 && info.executionStatus === 'finished', 90_000);

    // Mid-conversation: kill the worker while a turn runs, then send more.
    const slow = await conversations.send(id, { text: 'sleep 2; echo three' });
    await waitForInfo(conversations, id, (info) => info.delivered === 3 && info.executionStatus === 'running', 30_000);
    await workers[1]?.kill('SIGKILL');
    await conversations.send(id, { text: 'echo four' }, 'signal');
    await newWorker();
    const done = await waitForInfo(conversations, id, (info) => info.delivered === 4 && info.lastTurn?.messageId !== slow?.messageId && info.queued === 0, 90_000);

    assert.deepEqual(await agentReplies(conversations, id), ['one\n', 'two\n', 'three\n', 'four\n']);
    assert.equal(done.runtimesReplaced, 0);
    const live = (await runtimeApi.list()).runtimes.filter((r) => r.session_id === id && r.status !== 'stopped');
    assert.equal(live.length, 1, 'exactly one runtime serves the conversation');

    await conversations.close(id);
    assert.equal((await conversations.result(id)).info.status, 'ARCHIVED');
  });
});
