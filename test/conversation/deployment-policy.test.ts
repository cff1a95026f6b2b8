// Policy belongs to the deployment: the worker's configuration is every conversation's
// policy, whatever the starting client (or the CLI's environment) says; a client overrides a
// setting only where the workers allow it, and a start that asks for another is refused
// before anything is provisioned. Real Temporal, a real worker, real sandboxes.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConversationClient, InvalidInputError, PolicyOverrideError } from '../../src/client.js';
import { BatchClient } from '../../src/batch/client.js';
import { BatchStore } from '../../src/batch/store.js';
import { startConversationStack, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { runCli, stackCliEnv } from '../support/cli-process.js';
import { uniqueId } from '../support/temporal.js';

/** The worker's idle delay: a few seconds, so an idle conversation pauses within the test. */
const WORKER_IDLE_MS = 3_000;
/** Far longer than any wait here: a conversation under it stays running throughout. */
const LONG_IDLE_MS = 30 * 60_000;

describe('policy belongs to the deployment', () => {
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack({ policy: { idleDelayMs: WORKER_IDLE_MS, retentionMs: 600_000, maxMessageBytes: 1_024 } });
  });
  after(async () => {
    await stack?.close();
  });

  /** Event types of the conversation's history, e.g. to see that nothing was scheduled. */
  async function eventTypes(id: string): Promise<string[]> {
    const history = await stack.temporal.client.workflow.getHandle(id).fetchHistory();
    return (history.events ?? []).map((event) => String(event.eventType));
  }

  test("a client that sets nothing gets the worker's idle delay; an allowed override wins", async () => {
    const plain = uniqueId('worker-idle');
    const own = uniqueId('own-idle');
    await stack.conversations.start({ conversationId: plain, userId: 'pia', message: { text: 'echo one', messageId: 'm1' } });
    await stack.conversations.start({ conversationId: own, userId: 'pia', message: { text: 'echo one', messageId: 'm1' }, policyOverrides: { idleDelayMs: LONG_IDLE_MS } });

    const paused = await waitForInfo(stack.conversations, plain, (i) => i.status === 'STOPPED', 90_000);
    assert.equal(paused.runtimeStatus, 'paused');
    assert.equal(paused.policy.idleDelayMs, WORKER_IDLE_MS);
    assert.equal(paused.policy.retentionMs, 600_000, "the worker's retention too");
    // Both delivered their message at about the same time; the one that asked for a long idle delay runs on.
    const running = await waitForInfo(stack.conversations, own, (i) => i.delivered === 1 && i.executionStatus === 'finished');
    assert.equal(running.status, 'RUNNING');
    assert.equal(running.policy.idleDelayMs, LONG_IDLE_MS);
    assert.equal(running.policy.retentionMs, 600_000, 'what it did not override stays the deployment\'s');
    for (const id of [plain, own]) await stack.conversations.close(id);
  });

  test('an override the deployment does not allow is refused with PolicyOverrideError; nothing is provisioned', async () => {
    const id = uniqueId('refused');
    await assert.rejects(
      stack.conversations.start({ conversationId: id, userId: 'pia', policyOverrides: { retentionMs: 60_000, idleDelayMs: 5_000 } }),
      (error: unknown) => {
        assert.ok(error instanceof PolicyOverrideError, String(error));
        assert.deepEqual(error.refused, ['retention']);
        assert.match(error.message, /does not let a client set retentionMs \(CONVERSATION_RETENTION\) per conversation: it may set only idleDelayMs/);
        return true;
      },
    );
    // With a first message: its ack came with the start, the refusal with the admission; the message never reached an agent.
    const withMessage = uniqueId('refused-msg');
    await assert.rejects(
      stack.conversations.start({ conversationId: withMessage, userId: 'pia', message: { text: 'echo never', messageId: 'm1' }, policyOverrides: { closePolicy: 'pause' } }),
      PolicyOverrideError,
    );
    for (const refused of [id, withMessage]) {
      const types = await eventTypes(refused);
      assert.ok(!types.some((type) => type.includes('ACTIVITY_TASK')), `no activity was scheduled: ${types.join(', ')}`);
      assert.equal(await stack.runtimeApi.getSession(refused), null, 'no runtime was started');
    }
    // The same ID starts at once without the override, under the deployment's policy.
    await stack.conversations.start({ conversationId: id, userId: 'pia' });
    assert.equal((await stack.conversations.waitUntilReady(id)).policy.retentionMs, 600_000);
    await stack.conversations.close(id);
  });

  test("the deployment's message limit: a client without overrides is refused by the conversation's validator, naming it", async () => {
    const id = uniqueId('limit');
    await stack.conversations.start({ conversationId: id, userId: 'pia' });
    const tooBig = `echo ${'a'.repeat(1_100)}`;
    await assert.rejects(stack.conversations.send(id, { text: tooBig, messageId: 'big' }), (error: unknown) => {
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.match(error.message, /the limit is 1024 bytes/);
      return true;
    });
    assert.ok(!(await eventTypes(id)).some((type) => type.includes('UPDATE_ACCEPTED')), 'the refused update left nothing in history');
    // A first message travels with the start, before the workers' limit is known: it is refused visibly, never delivered.
    const first = uniqueId('limit-first');
    await stack.conversations.start({ conversationId: first, userId: 'pia', message: { text: tooBig, messageId: 'big' } });
    const info = await waitForInfo(stack.conversations, first, (i) => i.refused === 1 && i.status === 'RUNNING');
    assert.equal(info.delivered, 0);
    assert.equal(info.lastRefused?.by, 'deployment');
    assert.match(info.lastRefused?.reason ?? '', /this deployment's limit is 1024 bytes \(MESSAGE_MAX_BYTES\)/);
    // A signal cannot be refused to its sender: the conversation refuses it visibly instead of dropping it.
    await stack.conversations.send(id, { text: tooBig, messageId: 'big-signal' }, 'signal');
    const signalled = await waitForInfo(stack.conversations, id, (i) => i.refused === 1);
    assert.deepEqual({ messageId: signalled.lastRefused?.messageId, by: signalled.lastRefused?.by, delivered: signalled.delivered }, { messageId: 'big-signal', by: 'deployment', delivered: 0 });
    assert.match(signalled.lastRefused?.reason ?? '', /1024 bytes/);
    for (const done of [id, first]) await stack.conversations.close(done);
  });

  test("the CLI: its own environment's policy has no effect; --policy overrides what is allowed, and is refused otherwise", async () => {
    const cli = (...args: string[]) =>
      runCli(
        args,
        // What used to travel in the input from the CLI's environment.
        stackCliEnv(stack, { CONVERSATION_IDLE_DELAY: '30m', CONVERSATION_RETENTION: '1d' }),
      );
    const plain = uniqueId('cli-plain');
    const started = await cli('start', plain, '--user', 'pia', '--message', 'echo hi');
    assert.equal(started.code, 0, started.stderr);
    const paused = await waitForInfo(stack.conversations, plain, (i) => i.status === 'STOPPED', 90_000);
    assert.deepEqual([paused.policy.idleDelayMs, paused.policy.retentionMs], [WORKER_IDLE_MS, 600_000]);

    const own = uniqueId('cli-own');
    const overridden = await cli('start', own, '--user', 'pia', '--policy', 'idleDelay=30m');
    assert.equal(overridden.code, 0, overridden.stderr);
    assert.equal((await stack.conversations.info(own)).policy.idleDelayMs, LONG_IDLE_MS);

    const refused = await cli('start', uniqueId('cli-refused'), '--user', 'pia', '--policy', 'retention=1h');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /PolicyOverrideError: conversation \S+ was not started: this deployment does not let a client set retentionMs/);
    const malformed = await cli('start', uniqueId('cli-bad'), '--user', 'pia', '--policy', 'idleDelay=soon');
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /idleDelay="soon" is not a duration/);
    for (const id of [plain, own]) await stack.conversations.close(id);
  });

  test('a batch whose overrides the deployment refuses fails each item once, saying why', async () => {
    const batches = new BatchClient({ client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, store: new BatchStore(path.join(stack.dataDir, 'batches')) });
    const run = await batches.run({ input: '{"prompt":"echo a"}\n{"prompt":"echo b"}\n', batchId: uniqueId('b'), maxAttempts: 3, policyOverrides: { initTimeoutMs: 5_000 } });
    const final = await batches.result(run.batchId);
    assert.deepEqual({ succeeded: final.succeeded, failed: final.failed, retried: final.retried }, { succeeded: 0, failed: 2, retried: 0 });
    for await (const item of batches.results(run.batchId)) {
      assert.equal(item.status, 'failed');
      const failed = item as { error: string; attempts: number };
      assert.equal(failed.attempts, 1, 'a refusal is not tried again');
      assert.match(failed.error, /^PolicyOverrideError: .*initTimeoutMs \(RUNTIME_INIT_TIMEOUT\)/);
    }
  });

  test('an override of a setting that is no policy setting is refused at the edge, before anything reaches Temporal', async () => {
    const id = uniqueId('edge');
    const bogus = { maxRecoveries: 9 } as unknown as { idleDelayMs: number };
    await assert.rejects(stack.conversations.start({ conversationId: id, userId: 'pia', policyOverrides: bogus }), (error: unknown) => {
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.match(error.message, /maxRecoveries cannot be set per conversation/);
      return true;
    });
    assert.throws(() => new ConversationClient({ client: stack.temporal.client, taskQueue: 'x', policyOverrides: { idleDelayMs: -1 } }), InvalidInputError);
    const found = await stack.temporal.client.workflow
      .getHandle(id)
      .describe()
      .then(() => true, () => false);
    assert.equal(found, false);
  });
});
