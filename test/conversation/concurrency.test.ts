import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sendMessageSignal, sendMessageUpdate } from '../../src/workflows/messages.js';
import { agentReplies, startConversationStack, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';
import { agentWorkspace, sessionDir, sessionRuntimes, survivorsIn, untilSessionRuntime } from './support.js';

describe('concurrent starts, messages during provisioning, duplicates', () => {
  let stack: ConversationStack;
  before(async () => {
    // Slow sandbox starts keep each conversation in STARTING long enough to race against it:
    // five sends and a query must fit, on a loaded machine too (1.5 s did not, at load 20).
    stack = await startConversationStack({ server: { faults: { startDelayMs: 10_000 } } });
  });
  after(async () => {
    await stack.close();
  });

  test('two concurrent starts of one ID make one workflow run and one runtime', async () => {
    const { conversations, temporal } = stack;
    const id = uniqueId('twin');
    const [withMessage, bare] = await Promise.all([
      conversations.start({ conversationId: id, userId: 'ann', message: { text: 'echo twin' } }),
      conversations.start({ conversationId: id, userId: 'ann' }),
    ]);
    assert.equal(withMessage.ack?.duplicate, false);
    assert.equal(bare.ack, undefined);

    await conversations.waitUntilReady(id);
    const info = await waitForInfo(conversations, id, (i) => i.delivered === 1 && i.executionStatus === 'finished');
    assert.equal(info.received, 1);
    assert.deepEqual(await agentReplies(conversations, id), ['twin\n']);

    // Visibility is eventually consistent: wait for the run to show up, then for any second one.
    const runs = async () => {
      const found: string[] = [];
      for await (const execution of temporal.client.workflow.list({ query: `WorkflowId = '${id}'` })) found.push(execution.runId);
      return found;
    };
    const deadline = Date.now() + 10_000;
    while ((await runs()).length === 0 && Date.now() < deadline) await sleep(100);
    await sleep(500);
    const listed = await runs();
    assert.deepEqual(listed, [(await temporal.client.workflow.getHandle(id).describe()).runId], 'exactly one run, the current one');

    const runtimes = await sessionRuntimes(stack, id);
    assert.equal(runtimes.length, 1, `one runtime for the session, got ${JSON.stringify(runtimes)}`);
    assert.equal(runtimes[0]?.runtime_id, info.runtimeId);
    assert.equal(runtimes[0]?.status, 'running');
    await conversations.close(id);
    await conversations.result(id);
  });

  test('messages sent while the runtime is still provisioning are delivered in order', async () => {
    const { conversations } = stack;
    const id = uniqueId('early');
    await conversations.start({ conversationId: id, userId: 'ann' });
    const modes = ['update', 'signal', 'update', 'signal', 'signal'] as const;
    for (const [k, mode] of modes.entries()) await conversations.send(id, { text: `echo m${k + 1}`, messageId: `m${k + 1}` }, mode);
    const early = await conversations.info(id);
    assert.equal(early.status, 'STARTING', 'the messages arrived while the runtime was provisioning');
    assert.equal(early.received, 5);

    const done = await waitForInfo(conversations, id, (i) => i.delivered === 5 && i.queued === 0 && i.executionStatus === 'finished');
    assert.equal(done.delivered, 5);
    assert.equal(done.status, 'RUNNING');
    assert.deepEqual(await agentReplies(conversations, id), ['m1\n', 'm2\n', 'm3\n', 'm4\n', 'm5\n']);
    await conversations.close(id);
    await conversations.result(id);
  });

  test('cancelling while the runtime is still provisioning stops the half-started runtime', async () => {
    const { conversations, temporal } = stack;
    const id = uniqueId('cancel-early');
    await conversations.start({ conversationId: id, userId: 'ann', message: { text: 'echo never' } });
    await untilSessionRuntime(stack, id);
    assert.equal((await conversations.info(id)).status, 'STARTING');
    await temporal.client.workflow.getHandle(id).cancel();
    await assert.rejects(temporal.client.workflow.getHandle(id).result());
    assert.equal((await conversations.info(id)).status, 'ARCHIVED');
    assert.deepEqual(
      (await sessionRuntimes(stack, id)).map((r) => r.status),
      ['stopped'],
    );
    assert.deepEqual(await survivorsIn(sessionDir(stack, id)), []);
  });

  test('a messageId repeated is delivered once; the command runs once', async () => {
    const { conversations, temporal } = stack;
    const id = uniqueId('dup');
    await conversations.start({ conversationId: id, userId: 'ann' });
    const message = { text: 'echo x >> count.txt; cat count.txt', messageId: 'count-1' };
    const acks = [];
    for (let k = 0; k < 3; k++) acks.push(await conversations.send(id, message));
    // The client uses the messageId as the update ID, so Temporal itself answers a repeat
    // with the first outcome: the workflow's handler never sees it.
    assert.deepEqual(acks, [0, 1, 2].map(() => ({ messageId: 'count-1', position: 1, duplicate: false })));
    assert.equal((await conversations.info(id)).duplicates, 0);

    // Past Temporal's update-ID dedupe (another update ID; a signal), the workflow's own window drops it.
    const handle = temporal.client.workflow.getHandle(id);
    const repeat = await handle.executeUpdate(sendMessageUpdate, { args: [message], updateId: 'another-update-id' });
    assert.deepEqual(repeat, { messageId: 'count-1', position: 0, duplicate: true });
    await handle.signal(sendMessageSignal, message);

    const info = await waitForInfo(conversations, id, (i) => i.duplicates === 2 && i.delivered === 1 && i.executionStatus === 'finished');
    assert.equal(info.received, 1);
    assert.equal(info.queued, 0);
    assert.deepEqual(await agentReplies(conversations, id), ['x\n']);
    assert.equal(await readFile(path.join(agentWorkspace(stack, id), 'count.txt'), 'utf8'), 'x\n', 'the command ran once');
    await conversations.close(id);
    await conversations.result(id);
  });
});
