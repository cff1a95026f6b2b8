import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ProvisioningFailedError } from '../../src/client-errors.js';
import { startConversationStack } from '../support/conversations.js';
import type { ConversationStack, StackOptions } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';
import { sessionDir, sessionRuntimes, survivorsIn } from './support.js';

/** Provisioning failed: the run failed in ERROR, and the session has no live runtime and no process left. */
async function assertCompensated(stack: ConversationStack, id: string): Promise<void> {
  const { conversations, temporal } = stack;
  const handle = temporal.client.workflow.getHandle(id);
  await assert.rejects(conversations.result(id), ProvisioningFailedError);
  // Asked again once the run has ended, the answer is the same.
  await assert.rejects(conversations.waitUntilReady(id), ProvisioningFailedError);
  assert.equal((await handle.describe()).status.name, 'FAILED');
  const info = await conversations.info(id);
  assert.equal(info.status, 'ERROR');
  assert.equal(info.runtimeStatus, 'stopped');
  assert.ok(info.lastError, 'the reason is recorded');

  const runtimes = await sessionRuntimes(stack, id);
  assert.ok(runtimes.length <= 1, `at most one runtime was ever created, got ${runtimes.length}`);
  assert.deepEqual(
    runtimes.map((r) => r.status),
    runtimes.map(() => 'stopped'),
  );
  for (const runtime of runtimes) assert.equal(stack.server.sandboxPid(runtime.runtime_id), undefined);
  assert.deepEqual(await survivorsIn(sessionDir(stack, id)), [], 'no sandbox process survives');
}

function withStack(options: StackOptions, body: (stack: () => ConversationStack) => void): void {
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack(options);
  });
  after(async () => {
    await stack.close();
  });
  body(() => stack);
}

describe('a runtime that crashes on every start', () => {
  withStack({ server: { faults: { crashOnStart: true }, maxRestarts: 1 } }, (stack) => {
    test('fails provisioning, stops the runtime and ends the conversation in ERROR', async () => {
      const { conversations } = stack();
      const id = uniqueId('crashloop');
      await conversations.start({ conversationId: id, userId: 'bob', message: { text: 'echo never' } });
      await assert.rejects(conversations.waitUntilReady(id), (error: unknown) => {
        assert.ok(error instanceof ProvisioningFailedError, String(error));
        assert.match(error.message, /crashloopbackoff/);
        return true;
      });
      await assertCompensated(stack(), id);
      assert.equal((await conversations.info(id)).delivered, 0);
    });
  });
});

describe('a runtime that never becomes ready', () => {
  withStack({ server: { faults: { neverReady: true } }, policy: { initTimeoutMs: 2_000 } }, (stack) => {
    test('times out after initTimeoutMs, stops the runtime and ends the conversation in ERROR', async () => {
      const { conversations } = stack();
      const id = uniqueId('never-ready');
      const startedAt = Date.now();
      await conversations.start({ conversationId: id, userId: 'bob' });
      await assert.rejects(conversations.waitUntilReady(id), (error: unknown) => {
        assert.ok(error instanceof ProvisioningFailedError, String(error));
        assert.match(error.message, /RuntimeInitTimeoutError: .*not alive after 2000 ms/);
        return true;
      });
      assert.ok(Date.now() - startedAt >= 2_000, 'it waited for the init timeout');
      await assertCompensated(stack(), id);
    });
  });
});
