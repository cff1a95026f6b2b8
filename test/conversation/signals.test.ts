import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { ConversationClosedError } from '../../src/client.js';
import { agentReplies, startConversationStack, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';
import { groupAlive, sessionDir, sessionRuntimes, survivorsIn } from './support.js';

describe('pause, resume, close and cancel on demand', () => {
  let stack: ConversationStack;
  before(async () => {
    // The close-policy test asks for pause in its conversation, which the deployment must allow.
    stack = await startConversationStack({ policyOverridable: ['idleDelay', 'closePolicy'] });
  });
  after(async () => {
    await stack.close();
  });

  async function runningConversation(prefix: string, conversations = stack.conversations) {
    const id = uniqueId(prefix);
    await conversations.start({ conversationId: id, userId: 'hal', message: { text: 'echo up', messageId: 'up' } });
    const ready = await waitForInfo(conversations, id, (i) => i.delivered === 1 && i.executionStatus === 'finished');
    return { id, runtimeId: ready.runtimeId! };
  }

  test('pause → STOPPED, resume → RUNNING on the same runtime; close under closePolicy pause leaves it paused', async () => {
    const conversations = stack.conversations.withPolicyOverrides({ closePolicy: 'pause' });
    const { id, runtimeId } = await runningConversation('signals', conversations);

    await conversations.pause(id);
    const paused = await waitForInfo(conversations, id, (i) => i.status === 'STOPPED');
    assert.equal(paused.runtimeStatus, 'paused');
    assert.equal((await stack.runtimeApi.getSession(id))?.status, 'paused');

    await conversations.resume(id);
    const resumed = await waitForInfo(conversations, id, (i) => i.status === 'RUNNING');
    assert.equal(resumed.runtimeId, runtimeId, 'the same runtime was resumed');
    assert.equal(resumed.runtimesReplaced, 0);
    assert.equal((await stack.runtimeApi.getSession(id))?.status, 'running');
    await conversations.send(id, { text: 'echo again', messageId: 'again' });
    await waitForInfo(conversations, id, (i) => i.delivered === 2 && i.executionStatus === 'finished');
    assert.deepEqual(await agentReplies(conversations, id), ['up\n', 'again\n']);

    await conversations.close(id, 'done for now');
    const result = await conversations.result(id);
    assert.equal(result.info.status, 'STOPPED');
    assert.equal(result.info.runtimeStatus, 'paused');
    const session = await stack.runtimeApi.getSession(id);
    assert.equal(session?.runtime_id, runtimeId);
    assert.equal(session?.status, 'paused', 'closePolicy pause keeps the runtime, paused');

    await assert.rejects(conversations.send(id, { text: 'echo late' }), ConversationClosedError);
    await assert.rejects(conversations.send(id, { text: 'echo late' }, 'signal'), ConversationClosedError);
    await assert.rejects(conversations.pause(id), ConversationClosedError);
    await stack.runtimeApi.stop(runtimeId);
  });

  test('cancelling the workflow stops the runtime', async () => {
    const { conversations, temporal } = stack;
    const { id, runtimeId } = await runningConversation('cancel');
    const pgid = stack.server.sandboxPid(runtimeId);
    assert.ok(pgid);

    await temporal.client.workflow.getHandle(id).cancel();
    await assert.rejects(temporal.client.workflow.getHandle(id).result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError, String(error));
      assert.ok(error.cause instanceof CancelledFailure, String(error.cause));
      return true;
    });
    assert.equal((await conversations.info(id)).status, 'ARCHIVED');
    assert.deepEqual(
      (await sessionRuntimes(stack, id)).map((r) => r.status),
      ['stopped'],
      'no runtime outlives the conversation',
    );
    assert.equal(groupAlive(pgid), false, 'the sandbox process group is gone');
    assert.deepEqual(await survivorsIn(sessionDir(stack, id)), []);
  });

  test('close interrupts a long turn (sleep 30) and ends the run promptly, killing the sandbox', async () => {
    const { conversations } = stack;
    const { id, runtimeId } = await runningConversation('long');
    await conversations.send(id, { text: 'sleep 30', messageId: 'long' });
    await waitForInfo(conversations, id, (i) => i.delivered === 2 && i.executionStatus === 'running');
    const pgid = stack.server.sandboxPid(runtimeId);
    assert.ok(pgid);
    assert.ok((await survivorsIn(sessionDir(stack, id), 0)).length >= 2, 'the sandbox and its sleep are running');

    const closedAt = Date.now();
    await conversations.close(id);
    const result = await conversations.result(id);
    const tookMs = Date.now() - closedAt;
    assert.ok(tookMs < 15_000, `close took ${tookMs} ms; the turn would have lasted 30 s`);
    assert.equal(result.info.status, 'ARCHIVED');
    assert.equal(result.info.lastTurn?.messageId, 'long');
    assert.equal(result.info.lastTurn?.interrupted, true);
    assert.equal((await stack.runtimeApi.getSession(id))?.status, 'stopped');
    assert.equal(groupAlive(pgid), false, 'the sandbox process group is gone');
    assert.deepEqual(await survivorsIn(sessionDir(stack, id)), [], 'neither the sandbox nor its sleep survives');
  });
});
