// One user, two deployments (task queues, each with its workers and Runtime API) in one
// namespace. Each deployment admits the user on its own admission workflow: the slots are
// its own runtimes. Seen before: the second deployment's starts waited forever on the
// admission workflow the first had started, on a task queue nobody polled any more.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { admissionWorkflowId } from '../../src/workflows/admission/messages.js';
import { startConversationStack, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';

const admission = { defaults: { limit: 1, policy: 'queue' as const } };

describe('per-user admission across deployments (task queues) in one namespace', () => {
  const stacks: ConversationStack[] = [];
  after(async () => {
    for (const stack of stacks) await stack.close().catch(() => undefined);
  });

  test('a user admitted by a deployment that is gone now starts at once on another', async () => {
    const userId = uniqueId('dep');
    const first = await startConversationStack({ admission });
    stacks.push(first);
    const old = uniqueId('dep-old');
    await first.conversations.start({ conversationId: old, userId, message: { text: 'echo on-first', messageId: 'm1' } });
    await waitForInfo(first.conversations, old, (i) => i.lastTurn?.messageId === 'm1', 120_000);
    // The first deployment goes away (workers and Runtime API) with its slot still held: nobody polls its task queue now.
    await first.close();
    stacks.splice(stacks.indexOf(first), 1);

    const second = await startConversationStack({ admission });
    stacks.push(second);
    assert.notEqual(second.temporal.taskQueue, first.temporal.taskQueue);
    const id = uniqueId('dep-new');
    const started = await second.conversations.start({ conversationId: id, userId, message: { text: 'echo on-second', messageId: 'm1' } });
    assert.equal(started.admission?.state, 'held', 'its own limit of 1 is free on this deployment');
    const done = await waitForInfo(second.conversations, id, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0, 120_000);
    assert.equal(done.status, 'RUNNING');

    const status = await second.conversations.userAdmission(userId);
    assert.deepEqual(status?.held.map((h) => h.conversationId), [id], 'the second deployment holds only its own');
    const ids = [admissionWorkflowId(first.temporal.taskQueue, userId), admissionWorkflowId(second.temporal.taskQueue, userId)];
    assert.equal(new Set(ids).size, 2, 'one admission workflow per deployment');
    await second.conversations.close(id);
    await second.conversations.result(id);
  });
});
