// Bad input found by fault testing: an injectable list filter, statuses that silently
// matched nothing, IDs made of dots, non-string text reported as empty, and a message
// within the byte limit that was six times larger on the wire.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ConversationClient, InvalidInputError } from '../../src/client.js';
import { sendMessageUpdate } from '../../src/workflows/messages.js';
import { conversationListQuery, visibilityLiteral } from '../../src/workflows/search-attributes.js';
import { startTestWorker, temporalAddress, uniqueId } from '../support/temporal.js';
import type { TestTemporal } from '../support/temporal.js';
import { runCli } from '../support/cli-process.js';

const VALID_STATUSES = /STARTING, RUNNING, STOPPED, ARCHIVED, ERROR/;

function refused(field: string, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof InvalidInputError, String(error));
    assert.equal(error.field, field);
    if (message) assert.match(error.message, message);
    return true;
  };
}

describe('input edges', () => {
  // A worker without activities: enough for update validators and queries, and no runtime is ever provisioned.
  let temporal: TestTemporal;
  let conversations: ConversationClient;
  const started: string[] = [];
  const alice = uniqueId('alice');
  const bob = uniqueId('bob');
  before(async () => {
    temporal = await startTestWorker({});
    conversations = new ConversationClient({ client: temporal.client, taskQueue: temporal.taskQueue });
    for (const [conversationId, userId] of [[uniqueId('conv-a'), alice], [uniqueId('conv-b'), bob]] as const) {
      // No activities here, so no admission decision ever comes: do not wait for one.
      await conversations.start({ conversationId, userId, waitForAdmission: false });
      started.push(conversationId);
    }
  });
  after(async () => {
    for (const id of started) await temporal.client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
    await temporal.close();
  });

  /** Visibility is eventually consistent: wait until both users' conversations are listed. */
  async function bothListed(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const listed = [...(await conversations.list({ userId: alice })), ...(await conversations.list({ userId: bob }))];
      if (listed.length === 2) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail('conversations never became visible');
  }

  test("list --user alice --status \"NOPE' OR ConversationUserId = 'bob\" lists 0 of bob's conversations: refused, naming the valid statuses", async () => {
    await bothListed();
    const injected = `NOPE' OR ConversationUserId = '${bob}`;
    await assert.rejects(conversations.list({ userId: alice, status: injected as 'RUNNING' }), refused('status', VALID_STATUSES));
    await assert.rejects(conversations.list({ userId: `${alice}' OR ConversationUserId = '${bob}` }), refused('userId'));
    await assert.rejects(conversations.list({ status: 'BOGUS' as 'RUNNING' }), refused('status', VALID_STATUSES));

    // Case-insensitive; alice's filter finds alice's conversation only.
    const listed = await conversations.list({ userId: alice, status: 'starting' });
    assert.deepEqual(listed.map((c) => c.userId), [alice]);

    // The premise: pasted into the query as the client used to, the text lists bob's conversation.
    const naive = `WorkflowType = 'conversationWorkflow' AND ConversationUserId = '${alice}' AND ConversationStatus = '${injected}'`;
    assert.equal((await temporal.client.workflow.count(naive)).count, 1);
    // Second line of defence: even unvalidated, the injected text stays one literal on the server (0 matches).
    const query = `${conversationListQuery({ userId: alice })} AND ConversationStatus = ${visibilityLiteral(injected)}`;
    assert.equal((await temporal.client.workflow.count(query)).count, 0);
    assert.throws(() => visibilityLiteral('a\\b'), InvalidInputError);
  });

  test('the CLI: an injected --status exits 1 naming the valid values; --status starting (any case) lists alice only', async () => {
    await bothListed();
    const cli = (...args: string[]) =>
      runCli(args, { ...process.env, TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_TASK_QUEUE: temporal.taskQueue, RUNTIME_API_URL: 'http://127.0.0.1:9', RUNTIME_API_KEY: 'unused' });
    const injected = await cli('list', '--user', alice, '--status', `NOPE' OR ConversationUserId = '${bob}`);
    assert.equal(injected.code, 1, injected.stdout);
    assert.match(injected.stderr, /InvalidInputError: invalid status .*use one of STARTING, RUNNING, STOPPED, ARCHIVED, ERROR/);
    assert.ok(!injected.stdout.includes(bob), "bob's conversations are not listed");

    const lower = await cli('list', '--user', alice, '--status', 'starting');
    assert.equal(lower.code, 0, lower.stderr);
    assert.deepEqual((JSON.parse(lower.stdout) as Array<{ userId: string }>).map((c) => c.userId), [alice]);
  });

  test('IDs made only of dots (., .., ...) are refused for conversations and users; 0 workflows started', async () => {
    for (const id of ['.', '..', '...']) {
      await assert.rejects(conversations.start({ conversationId: id, userId: 'gil' }), refused('conversationId', /dots only/));
      await assert.rejects(conversations.start({ conversationId: uniqueId('dots'), userId: id }), refused('userId', /dots only/));
      await assert.rejects(
        temporal.client.workflow.getHandle(id).describe(),
        (error: unknown) => (error as Error).name === 'WorkflowNotFoundError',
      );
    }
    // Dots inside an ID are still fine.
    const dotted = `${uniqueId('v1.2')}..x`;
    await conversations.start({ conversationId: dotted, userId: 'gil.s', waitForAdmission: false });
    started.push(dotted);
  });

  test("non-string text is 'text must be a string', at the client and in the workflow's validator", async () => {
    const id = started[0] as string;
    for (const text of [42, null, ['echo hi'], { text: 'echo hi' }]) {
      await assert.rejects(conversations.send(id, { text: text as unknown as string }), refused('text', /text must be a string/));
      await assertWorkflowRefuses(id, { messageId: uniqueId('raw'), text }, /text must be a string/);
    }
  });

  test('262,144 bytes of control characters (1,572,864 as sent) are refused before acknowledgement; 0 received', async () => {
    const id = started[0] as string;
    const text = '\u0001'.repeat(256 * 1024);
    // The client holds a message to what any runtime accepts; the conversation, to its deployment's limit.
    await assert.rejects(conversations.send(id, { text }), refused('text', /1572864 bytes as sent .*the limit is 1048512 bytes/));
    await assert.rejects(conversations.send(id, { text }, 'signal'), refused('text'));
    await assertWorkflowRefuses(id, { messageId: 'raw-control-chars', text }, /1572864 bytes as sent/);
    // A limit above what a runtime accepts cannot be asked for; the workflow holds a raw message to the ceiling too.
    assert.throws(() => conversations.withPolicyOverrides({ maxMessageBytes: 2 * 1024 * 1024 }), refused('policyOverrides', /maxMessageBytes 2097152: use a whole number from 1 to 1048512/));
    await assertWorkflowRefuses(id, { messageId: 'raw-over-ceiling', text: 'a'.repeat(1024 * 1024) }, /the limit is 1048512 bytes/);
    assert.equal((await conversations.info(id)).received, 0);
  });

  /** A raw Temporal update, bypassing ConversationClient's checks, fails with InvalidInputError. */
  async function assertWorkflowRefuses(id: string, input: { messageId: string; text: unknown }, message: RegExp): Promise<void> {
    const handle = temporal.client.workflow.getHandle(id);
    await assert.rejects(handle.executeUpdate(sendMessageUpdate, { args: [input as { messageId: string; text: string }], updateId: input.messageId }), (error: unknown) => {
      assert.ok(error instanceof WorkflowUpdateFailedError, String(error));
      assert.ok(error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'InvalidInputError');
      assert.match(error.cause.message, message);
      return true;
    });
  }
});
