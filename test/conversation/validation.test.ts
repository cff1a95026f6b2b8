import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ConversationClient, InvalidInputError } from '../../src/client.js';
import type { ConversationStack } from '../support/conversations.js';
import { startConversationStack, waitForInfo } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';
import { sendMessageUpdate } from '../../src/workflows/messages.js';

describe('invalid input is refused at the edge and by the workflow', () => {
  let stack: ConversationStack;
  before(async () => {
    // The deployment's limit is the default, 256 KiB; a client may ask for a smaller one.
    stack = await startConversationStack({ policyOverridable: ['maxMessageBytes'] });
  });
  after(async () => {
    await stack.close();
  });

  /** Runs found by visibility, and whether describe finds one, for a workflow ID. */
  async function workflowsWithId(id: string): Promise<{ listed: number; described: boolean }> {
    let listed = 0;
    for await (const _ of stack.temporal.client.workflow.list({ query: `WorkflowId = '${id}'` })) listed++;
    const described = await stack.temporal.client.workflow
      .getHandle(id)
      .describe()
      .then(() => true, () => false);
    return { listed, described };
  }

  /** The update IDs the workflow accepted, from its history. */
  async function acceptedUpdateIds(id: string): Promise<string[]> {
    const history = await stack.temporal.client.workflow.getHandle(id).fetchHistory();
    return (history.events ?? []).flatMap((event) => {
      const updateId = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.updateId;
      return updateId ? [updateId] : [];
    });
  }

  const rejectsInvalid = (promise: Promise<unknown>, field: string) =>
    assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.equal(error.field, field);
      return true;
    });

  test('invalid conversation IDs (and a bad first message) start nothing', async () => {
    const { conversations } = stack;
    for (const id of ['bad id!', '', 'a'.repeat(129)]) {
      await rejectsInvalid(conversations.start({ conversationId: id, userId: 'gil' }), 'conversationId');
      await rejectsInvalid(conversations.start({ conversationId: id, userId: 'gil', message: { text: 'echo hi' } }), 'conversationId');
    }
    const valid = uniqueId('bad-first');
    await rejectsInvalid(conversations.start({ conversationId: valid, userId: 'gil', message: { text: '  ' } }), 'text');
    await rejectsInvalid(conversations.start({ conversationId: valid, userId: 'bad user!' }), 'userId');
    for (const id of ['bad id!', '', 'a'.repeat(129), valid]) {
      assert.deepEqual(await workflowsWithId(id), { listed: 0, described: false }, `no workflow with ID ${JSON.stringify(id)}`);
    }
  });

  test('oversized, empty and badly identified messages are refused; nothing is received', async () => {
    const small = stack.conversations.withPolicyOverrides({ maxMessageBytes: 1_024 });
    const id = uniqueId('limits');
    await small.start({ conversationId: id, userId: 'gil' });
    await small.waitUntilReady(id);

    const atLimit = `echo ${'a'.repeat(1_019)}`;
    assert.equal(Buffer.byteLength(atLimit), 1_024);
    assert.equal((await small.send(id, { text: atLimit, messageId: 'at-limit' }))?.duplicate, false);
    await rejectsInvalid(small.send(id, { text: `${atLimit}a` }), 'text');
    await rejectsInvalid(small.send(id, { text: 'é'.repeat(513) }), 'text'); // 513 characters, 1,026 bytes
    await rejectsInvalid(small.send(id, { text: '' }), 'text');
    await rejectsInvalid(small.send(id, { text: ' \n\t' }, 'signal'), 'text');
    await rejectsInvalid(small.send(id, { text: 'echo hi', messageId: 'bad id!' }), 'messageId');
    await rejectsInvalid(small.send(id, { text: 'echo hi', messageId: 'm'.repeat(129) }), 'messageId');

    // The deployment's limit, 256 KiB, for a client without overrides: the client cannot know
    // it, so the conversation's validator refuses (naming the limit) and nothing is received.
    const plain = new ConversationClient({ client: stack.temporal.client, taskQueue: stack.temporal.taskQueue });
    const plainId = uniqueId('default-limit');
    await plain.start({ conversationId: plainId, userId: 'gil' });
    const tooBig = 'a'.repeat(256 * 1024 + 1);
    await assert.rejects(plain.send(plainId, { text: tooBig }), (error: unknown) => {
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.equal(error.field, 'text');
      assert.match(error.message, /the limit is 262144 bytes/);
      return true;
    });
    await assertWorkflowRefuses(plainId, { messageId: 'raw-too-big', text: tooBig });
    // Past the client: the workflow's own validator holds the conversation's smaller limit.
    await assertWorkflowRefuses(id, { messageId: 'raw-over-policy', text: `${atLimit}a` });

    const info = await waitForInfo(small, id, (i) => i.delivered === 1);
    assert.equal(info.received, 1, 'only the message at the limit was received');
    assert.equal((await plain.info(plainId)).received, 0);
    await small.close(id);
    await plain.close(plainId);
    await small.result(id);
    await plain.result(plainId);
  });

  test('the workflow validator refuses an empty text sent past the client; nothing enters history', async () => {
    const { conversations } = stack;
    const id = uniqueId('raw');
    await conversations.start({ conversationId: id, userId: 'gil' });
    await conversations.send(id, { text: 'echo ok', messageId: 'ok' });
    await assertWorkflowRefuses(id, { messageId: 'x', text: '' });

    const accepted = await acceptedUpdateIds(id);
    assert.ok(accepted.includes('ok'), 'history does record accepted updates');
    assert.ok(!accepted.includes('x'), 'the refused update left no trace in history');
    const info = await conversations.info(id);
    assert.equal(info.received, 1);
    await conversations.close(id);
    await conversations.result(id);
  });

  /** A raw Temporal update, bypassing ConversationClient's checks, fails with InvalidInputError. */
  async function assertWorkflowRefuses(id: string, input: { messageId: string; text: string }): Promise<void> {
    const handle = stack.temporal.client.workflow.getHandle(id);
    await assert.rejects(handle.executeUpdate(sendMessageUpdate, { args: [input], updateId: input.messageId }), (error: unknown) => {
      assert.ok(error instanceof WorkflowUpdateFailedError, String(error));
      assert.ok(error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'InvalidInputError');
      return true;
    });
    assert.ok(!(await acceptedUpdateIds(id)).includes(input.messageId));
  }
});
