// The product against the real, unmodified OpenHands agent server (openhands-agent-server,
// installed by the project), each runtime one server process run by the local Runtime API,
// the LLM the scripted one (src/llm/scripted-llm.ts). Every agent-server call passes a
// recording proxy, so the test can see what reached the server (the DELETE on close).
// Figures checked: replies 1 per message, user messages 1 per message sent, keys in history 0.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { openhandsVariant, SCRIPTED_LLM_KEY, startAgentStack } from '../support/agents.js';
import { testCodec } from '../support/codec.js';
import { decryptedHistoryText, searchableText } from '../support/history-search.js';
import type { AgentStack, AgentVariant } from '../support/agents.js';
import { agentReplies, userMessages, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import type { FaultProxy } from '../support/fault-proxy.js';
import { uniqueId } from '../support/temporal.js';

/** The history as stored (base64 fields decoded) and with every payload decrypted, as one string to search. */
async function decodedHistory(stack: ConversationStack, id: string): Promise<string> {
  const history = historyToJSON(await stack.temporal.client.workflow.getHandle(id).fetchHistory());
  return `${searchableText(history)}\n${await decryptedHistoryText(history, await testCodec())}`;
}

describe('conversations on the real OpenHands agent server', () => {
  let variant: AgentVariant;
  let proxy: FaultProxy;
  let stack: ConversationStack;
  let setup: AgentStack | undefined;
  before(async () => {
    setup = await startAgentStack(await openhandsVariant(), { policy: { idleDelayMs: 600_000 } });
    ({ variant, proxy, stack } = setup);
  });
  after(() => setup?.close());

  test('start, reply, second message, pause, a message while paused resumes it, close sends DELETE', async () => {
    const { conversations, runtimeApi } = stack;
    const id = uniqueId('oh-life');
    await conversations.start({ conversationId: id, userId: 'olga', message: { text: variant.ask('echo hello-from-openhands'), messageId: 'm1' } });
    const ready = await conversations.waitUntilReady(id);
    assert.equal(ready.status, 'RUNNING');
    const first = await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0, 120_000);
    assert.equal(first.lastTurn?.executionStatus, 'finished');
    const replies = await agentReplies(conversations, id);
    assert.equal(replies.length, 1, JSON.stringify(replies));
    assert.ok(variant.answers(replies[0]!, 'hello-from-openhands'), replies[0]);

    const second = await conversations.send(id, { text: variant.ask('echo second'), messageId: 'm2', waitFor: 'turn' });
    assert.deepEqual(second?.outcome, { messageId: 'm2', result: 'answered', executionStatus: 'finished' });

    await conversations.pause(id);
    const paused = await waitForInfo(conversations, id, (i) => i.status === 'STOPPED');
    assert.equal((await runtimeApi.getSession(id))?.status, 'paused');
    const third = await conversations.send(id, { text: variant.ask('echo while-paused'), messageId: 'm3', waitFor: 'turn' });
    assert.equal(third?.outcome?.result, 'answered');
    const resumed = await conversations.info(id);
    assert.equal(resumed.status, 'RUNNING');
    assert.equal(resumed.runtimeId, paused.runtimeId, 'resumed, not replaced');
    assert.deepEqual(await userMessages(conversations, id), ['echo hello-from-openhands', 'echo second', 'echo while-paused'].map((c) => variant.ask(c)));
    const all = await agentReplies(conversations, id);
    assert.equal(all.length, 3);
    assert.ok(variant.answers(all[2]!, 'while-paused'), all[2]);

    // The LLM got its key from the worker; history never saw it.
    assert.ok(variant.llm?.requests.some((r) => r.apiKey === SCRIPTED_LLM_KEY), 'the LLM received the configured key');
    assert.ok(!(await decodedHistory(stack, id)).includes(SCRIPTED_LLM_KEY), 'the LLM key is not in history');

    await conversations.close(id, 'done');
    assert.equal((await conversations.result(id)).info.status, 'ARCHIVED');
    const deletes = proxy.seen.filter((r) => r.method === 'DELETE' && r.path.startsWith(`/sandboxes/${ready.runtimeId}/api/conversations/`));
    assert.deepEqual(deletes.map((r) => r.status), [200], 'the agent server received DELETE and answered 200');
    assert.equal((await runtimeApi.getSession(id))?.status, 'stopped');
  });

  test('two conversations at once, each on its own runtime, each answered once', async () => {
    const { conversations } = stack;
    const ids = [uniqueId('oh-a'), uniqueId('oh-b')];
    await Promise.all(ids.map((id, n) => conversations.start({ conversationId: id, userId: 'olga', message: { text: variant.ask(`echo parallel-${n}`), messageId: 'm1' } })));
    const infos = await Promise.all(ids.map((id) => waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0, 180_000)));
    assert.notEqual(infos[0]!.runtimeId, infos[1]!.runtimeId);
    for (const [n, id] of ids.entries()) {
      const replies = await agentReplies(conversations, id);
      assert.equal(replies.length, 1);
      assert.ok(variant.answers(replies[0]!, `parallel-${n}`), replies[0]);
    }
    await Promise.all(ids.map((id) => conversations.close(id)));
    for (const id of ids) assert.equal((await conversations.result(id)).info.status, 'ARCHIVED');
  });

  test('pause during a long turn interrupts the agent (POST /interrupt) before the runtime is paused', async () => {
    const { conversations, runtimeApi } = stack;
    const id = uniqueId('oh-interrupt');
    await conversations.start({ conversationId: id, userId: 'olga', message: { text: variant.ask('sleep 120; echo late'), messageId: 'long' } });
    const running = await waitForInfo(conversations, id, (i) => i.turnMessageId === 'long' && i.executionStatus === 'running', 180_000);
    await conversations.pause(id);
    const paused = await waitForInfo(conversations, id, (i) => i.status === 'STOPPED', 60_000);
    assert.equal(paused.lastTurn?.messageId, 'long');
    assert.equal(paused.lastTurn?.interrupted, true);
    assert.equal((await runtimeApi.getSession(id))?.status, 'paused');
    const interrupts = proxy.seen.filter((r) => r.method === 'POST' && r.path.startsWith(`/sandboxes/${running.runtimeId}/`) && r.path.endsWith('/interrupt'));
    assert.deepEqual(interrupts.map((r) => r.status), [200], 'the agent server was interrupted once');
    await conversations.close(id);
    assert.equal((await conversations.result(id)).info.status, 'ARCHIVED');
  });
});
