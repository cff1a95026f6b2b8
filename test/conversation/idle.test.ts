import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { agentReplies, startConversationStack, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';
import { sessionDir, survivorsIn } from './support.js';

describe('idle pause and retention', () => {
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack({ policy: { idleDelayMs: 1_000, retentionMs: 2_000 } });
  });
  after(async () => {
    await stack.close();
  });

  test('RUNNING → STOPPED (runtime paused) → ARCHIVED (runtime stopped); the workflow completes by itself', async () => {
    const { conversations, runtimeApi, temporal } = stack;
    const id = uniqueId('idle');
    await conversations.start({ conversationId: id, userId: 'fay', message: { text: 'echo idle' } });
    const ready = await conversations.waitUntilReady(id);
    assert.equal(ready.status, 'RUNNING');
    await waitForInfo(conversations, id, (i) => i.delivered === 1 && i.executionStatus === 'finished');
    assert.deepEqual(await agentReplies(conversations, id), ['idle\n']);

    const paused = await waitForInfo(conversations, id, (i) => i.status === 'STOPPED', 10_000);
    assert.equal(paused.runtimeStatus, 'paused');
    assert.equal(paused.runtimeId, ready.runtimeId);
    assert.equal((await runtimeApi.getSession(id))?.status, 'paused');

    // Nobody closes it: retention ends the run.
    const result = await conversations.result(id);
    assert.equal(result.info.status, 'ARCHIVED');
    assert.equal(result.info.runtimeStatus, 'stopped');
    assert.equal(result.undelivered, 0);
    assert.equal((await temporal.client.workflow.getHandle(id).describe()).status.name, 'COMPLETED');
    assert.equal((await runtimeApi.getSession(id))?.status, 'stopped');
    assert.equal(stack.server.sandboxPid(ready.runtimeId!), undefined);
    assert.deepEqual(await survivorsIn(sessionDir(stack, id)), [], 'no sandbox process survives');
  });
});
