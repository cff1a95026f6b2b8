// 429 on posting a message means "saved, but no run capacity": the product must not send
// the message again, but retry /run until capacity frees. Played on the real agent server
// with max_concurrent_runs 1: a second agent conversation in the same runtime holds the
// only run slot with a slow LLM reply while our conversation's message arrives.
// Figures checked: user messages of the conversation 1 per message sent, 429s seen ≥ 1.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startConversationRequest } from '../../src/activities/agent-config.js';
import type { AgentSettings } from '../../src/activities/agent-config.js';
import { AgentServerClient } from '../../src/runtime-api/index.js';
import { openhandsVariant, startAgentStack } from '../support/agents.js';
import type { AgentStack, AgentVariant } from '../support/agents.js';
import { userMessages, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import type { FaultProxy } from '../support/fault-proxy.js';
import { uniqueId } from '../support/temporal.js';

describe('run capacity full on the real agent server (max_concurrent_runs 1)', () => {
  let variant: AgentVariant;
  let proxy: FaultProxy;
  let stack: ConversationStack;
  let setup: AgentStack | undefined;
  before(async () => {
    setup = await startAgentStack(await openhandsVariant({ maxConcurrentRuns: 1 }), { policy: { idleDelayMs: 600_000 } });
    ({ variant, proxy, stack } = setup);
  });
  after(() => setup?.close());

  test('a message answered 429 is saved once and runs when the slot frees', async () => {
    const { conversations, runtimeApi } = stack;
    const id = uniqueId('oh-429');
    await conversations.start({ conversationId: id, userId: 'pia', message: { text: variant.ask('echo first'), messageId: 'm1' } });
    const ready = await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0, 120_000);

    // Another conversation in the same runtime takes the only run slot for a while.
    const session = await runtimeApi.getSession(id);
    const other = new AgentServerClient({ baseUrl: session!.url, sessionApiKey: session!.session_api_key });
    const otherId = randomUUID();
    await other.createConversation(await startConversationRequest({ tools: ['terminal'], ...variant.agent } as AgentSettings, otherId));
    await other.sendMessage(otherId, { role: 'user', content: [{ type: 'text', text: 'slow: 12000 held the slot' }], run: true });
    await waitForRunning(other, otherId);

    const ack = await conversations.send(id, { text: variant.ask('echo after-capacity'), messageId: 'm2', waitFor: 'turn' });
    assert.equal(ack?.outcome?.result, 'answered');
    const refusedPosts = proxy.seen.filter((r) => r.method === 'POST' && r.status === 429 && r.path.startsWith(`/sandboxes/${ready.runtimeId}/api/conversations/`));
    assert.ok(refusedPosts.length >= 1, `429s seen: ${JSON.stringify(proxy.seen.filter((r) => r.status === 429))}`);
    assert.deepEqual(await userMessages(conversations, id), [variant.ask('echo first'), variant.ask('echo after-capacity')], 'saved once, never resent');
    await other.close();
    await conversations.close(id);
  });
});

async function waitForRunning(client: AgentServerClient, id: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await client.getConversation(id)).execution_status !== 'running') {
    if (Date.now() > deadline) throw new Error('the other conversation never ran');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
