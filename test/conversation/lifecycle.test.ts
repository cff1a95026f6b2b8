import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { testCodec } from '../support/codec.js';
import { agentReplies, startConversationStack, waitForInfo } from '../support/conversations.js';
import { decryptedHistoryText, searchableText } from '../support/history-search.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';

describe('conversation lifecycle (real Temporal, real sandboxes)', () => {
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack({ policy: { idleDelayMs: 1_500, retentionMs: 60_000 } });
  });
  after(async () => {
    await stack.close();
  });

  test('a turn that ended leaves no wait behind it (patch release-interruption-wait): the stack trace shows none in followTurn', async () => {
    const { conversations, temporal } = stack;
    const id = uniqueId('waits');
    await conversations.start({ conversationId: id, userId: 'ava', message: { text: 'echo one', messageId: 'one' } });
    await conversations.waitUntilReady(id);
    await waitForInfo(conversations, id, (info) => info.lastTurn?.messageId === 'one');
    await conversations.send(id, { text: 'echo two', messageId: 'two', waitFor: 'turn' });
    // Before the patch each ended turn left its wait for a pause or close blocked here, until the run ended.
    const stackTrace = await temporal.client.workflow.getHandle(id).query<string>('__stack_trace');
    assert.ok(stackTrace.includes('serve'), stackTrace);
    assert.doesNotMatch(stackTrace, /followTurn/);
    await conversations.close(id);
  });

  test('starts, runs a command, pauses when idle, resumes on a message, closes and stops its runtime', async () => {
    const { conversations, runtimeApi } = stack;
    const id = uniqueId('life');
    const { ack } = await conversations.start({ conversationId: id, userId: 'alice', message: { text: 'echo hello-from-sandbox' } });
    assert.deepEqual(ack && { position: ack.position, duplicate: ack.duplicate }, { position: 1, duplicate: false });

    const ready = await conversations.waitUntilReady(id);
    assert.equal(ready.status, 'RUNNING');
    assert.ok(ready.runtimeId);

    await waitForInfo(conversations, id, (info) => info.delivered === 1 && info.lastTurn !== undefined);
    assert.deepEqual(await agentReplies(conversations, id), ['hello-from-sandbox\n']);

    const paused = await waitForInfo(conversations, id, (info) => info.status === 'STOPPED');
    assert.equal(paused.runtimeStatus, 'paused');
    assert.equal((await runtimeApi.getSession(id))?.status, 'paused');

    await conversations.send(id, { text: 'echo second' });
    const resumed = await waitForInfo(conversations, id, (info) => info.delivered === 2 && info.lastTurn?.messageId !== ack?.messageId);
    assert.equal(resumed.status, 'RUNNING');
    assert.equal(resumed.runtimeId, ready.runtimeId, 'the paused runtime was resumed, not replaced');
    assert.deepEqual(await agentReplies(conversations, id), ['hello-from-sandbox\n', 'second\n']);

    // No secret in history: neither the Runtime API key nor the runtime's session key.
    const sessionKey = (await runtimeApi.getSession(id))?.session_api_key;
    assert.ok(sessionKey, 'the runtime has a session key to look for');
    // Searched decrypted (the codec's view, what an operator with the key sees) and raw (what Temporal stores).
    const history = historyToJSON(await stack.temporal.client.workflow.getHandle(id).fetchHistory());
    const decrypted = await decryptedHistoryText(history, await testCodec());
    assert.ok(decrypted.includes('echo second'), 'payloads were decrypted for the search');
    assert.ok(!searchableText(history).includes('echo second'), 'stored encrypted');
    for (const text of [decrypted, searchableText(history)]) {
      assert.ok(!text.includes(sessionKey), 'the session key is not in history');
      assert.ok(!text.includes(stack.runtimeApiKey), 'the Runtime API key is not in history');
    }

    await conversations.close(id, 'done');
    const result = await conversations.result(id);
    assert.equal(result.info.status, 'ARCHIVED');
    assert.equal(result.undelivered, 0);
    assert.equal((await runtimeApi.getSession(id))?.status, 'stopped');
  });
});
