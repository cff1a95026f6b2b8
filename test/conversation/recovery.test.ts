import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { ConversationInfo } from '../../src/client.js';
import { agentReplies, startConversationStack, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';
import { sessionRuntimes } from './support.js';

describe('runtime trouble behind the workflow\'s back', () => {
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack();
  });
  after(async () => {
    await stack.close();
  });

  /** Starts a conversation whose first message has round-tripped. */
  async function running(prefix: string): Promise<{ id: string; first: ConversationInfo }> {
    const id = uniqueId(prefix);
    await stack.conversations.start({ conversationId: id, userId: 'eve', message: { text: 'echo first', messageId: 'first' } });
    const first = await waitForInfo(stack.conversations, id, (i) => i.delivered === 1 && i.executionStatus === 'finished');
    assert.deepEqual(await agentReplies(stack.conversations, id), ['first\n']);
    return { id, first };
  }

  /** Sends `echo second` and waits until its turn has ended. */
  async function sendSecond(id: string): Promise<ConversationInfo> {
    await stack.conversations.send(id, { text: 'echo second', messageId: 'second' });
    return waitForInfo(stack.conversations, id, (i) => i.delivered === 2 && i.lastTurn?.messageId === 'second' && i.executionStatus === 'finished');
  }

  async function closeAndCheckStopped(id: string): Promise<void> {
    await stack.conversations.close(id);
    assert.equal((await stack.conversations.result(id)).info.status, 'ARCHIVED');
    assert.deepEqual(
      (await sessionRuntimes(stack, id)).filter((r) => r.status !== 'stopped'),
      [],
      'no runtime outlives the conversation',
    );
  }

  test('a runtime stopped directly is replaced and the next message is delivered on the new one', async () => {
    const { id, first } = await running('stopped');
    await stack.runtimeApi.stop(first.runtimeId!);

    const info = await sendSecond(id);
    assert.equal(info.status, 'RUNNING');
    assert.equal(info.runtimesReplaced, 1);
    assert.notEqual(info.runtimeId, first.runtimeId);
    assert.match(info.notice ?? '', new RegExp(`runtime ${first.runtimeId} was gone; replaced by ${info.runtimeId}`));
    // A new runtime has a new agent server: its history starts with the message it was given.
    assert.deepEqual(await agentReplies(stack.conversations, id), ['second\n']);
    const runtimes = await sessionRuntimes(stack, id);
    assert.deepEqual(runtimes.filter((r) => r.status !== 'stopped').map((r) => r.runtime_id), [info.runtimeId]);
    await closeAndCheckStopped(id);
  });

  test('a paused runtime stopped directly is replaced when the next message needs it', async () => {
    const { id, first } = await running('paused-stopped');
    await stack.conversations.pause(id);
    await waitForInfo(stack.conversations, id, (i) => i.status === 'STOPPED');
    await stack.runtimeApi.stop(first.runtimeId!);

    const info = await sendSecond(id);
    assert.equal(info.status, 'RUNNING');
    assert.notEqual(info.runtimeId, first.runtimeId);
    assert.equal(info.runtimesReplaced, 1);
    assert.match(info.notice ?? '', /was gone; replaced by/);
    assert.deepEqual(await agentReplies(stack.conversations, id), ['second\n']);
    await closeAndCheckStopped(id);
  });

  test('a sandbox process killed with SIGKILL restarts; the agent conversation is re-created and the message delivered', async () => {
    const { id, first } = await running('sigkill');
    const pid = stack.server.sandboxPid(first.runtimeId!);
    assert.ok(pid, 'the process driver reports the sandbox pid');
    process.kill(pid, 'SIGKILL');
    // Wait until the driver has restarted the sandbox and it is ready again, so the next
    // delivery reaches an agent server that answers but no longer knows the conversation.
    const restarted = async () => stack.server.sandboxPid(first.runtimeId!) !== pid && (await stack.runtimeApi.getRuntime(first.runtimeId!)).pod_status === 'ready';
    const deadline = Date.now() + 15_000;
    while (!(await restarted()) && Date.now() < deadline) await sleep(20);
    assert.ok(await restarted(), 'the sandbox was restarted');

    const info = await sendSecond(id);
    assert.equal(info.status, 'RUNNING');
    assert.equal(info.runtimeId, first.runtimeId, 'same runtime, restarted in place');
    assert.equal(info.runtimesReplaced, 0);
    // The restarted agent server forgot the conversation; the workflow created it again.
    assert.deepEqual(await agentReplies(stack.conversations, id), ['second\n']);
    const session = await stack.runtimeApi.getSession(id);
    assert.ok((session?.restart_count ?? 0) >= 1, 'the Runtime API counted the restart');
    await closeAndCheckStopped(id);
  });

  test('a runtime paused directly (503) is resumed and the message delivered', async () => {
    const { id, first } = await running('paused');
    await stack.runtimeApi.pause(first.runtimeId!);
    assert.equal((await stack.runtimeApi.getSession(id))?.status, 'paused');

    const info = await sendSecond(id);
    assert.equal(info.status, 'RUNNING');
    assert.equal(info.runtimeStatus, 'running');
    assert.equal(info.runtimeId, first.runtimeId, 'resumed, not replaced');
    assert.equal(info.runtimesReplaced, 0);
    assert.equal((await stack.runtimeApi.getSession(id))?.status, 'running');
    // Pausing keeps the agent server's memory: both replies are there.
    assert.deepEqual(await agentReplies(stack.conversations, id), ['first\n', 'second\n']);
    await closeAndCheckStopped(id);
  });
});
