// RUNTIME_NETWORK=none: a sandbox with a network namespace of its own. Its agent is reached
// only through the ingress (a socket relay inside the sandbox); from inside, nothing on the
// machine's network answers, loopback services included (the Runtime API, a Temporal server).
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { PROJECT_TOOLS_DIR, resolveAgentServer } from '../../src/tools/agent-server.js';
import { createConversation, sandboxCall, sendText, startRuntime, startTestServer, waitFor, waitReady } from './support.js';

const READY_TIMEOUT_MS = 180_000;

describe('a sandbox with no network (RUNTIME_NETWORK=none)', () => {
  test('the shell agent answers through the ingress; nothing outside answers it; pause and resume work', async (t) => {
    // A service of the machine's, on loopback, that a sandbox on the host network could reach.
    const service = createServer((socket) => socket.end('machine-service\n'));
    await new Promise<void>((ok) => service.listen(0, '127.0.0.1', ok));
    t.after(() => new Promise<void>((ok) => service.close(() => ok())));
    const { port } = service.address() as AddressInfo;

    const server = await startTestServer(t, { isolation: { network: 'none' } });
    const runtime = await startRuntime(server, 'offline');
    await waitReady(server, runtime.runtime_id);
    assert.deepEqual((await server.call('GET', '/sessions/offline')).body.work_hosts, {}, 'no direct address: only the ingress');
    const conversationId = await createConversation(runtime);
    const reply = async (command: string) => {
      await sendText(runtime, conversationId, command);
      return waitFor(`the answer to ${command}`, async () => {
        const page = await sandboxCall(runtime, 'GET', `/api/conversations/${conversationId}/events/search?kind=MessageEvent&sort_order=TIMESTAMP_DESC`);
        const last = page.body.items[0];
        return last?.source === 'agent' && page.body.items[1]?.llm_message.content[0].text === command ? (last.llm_message.content[0].text as string) : undefined;
      });
    };
    const probe = (host: string, target: number) => `(exec 3<>/dev/tcp/${host}/${target} && head -c 100 <&3) 2>&1 | head -c 200; echo " [done]"`;
    const ports = [port, server.port];
    for (const target of ports) {
      const answer = await reply(probe('127.0.0.1', target));
      assert.ok(answer.includes('[done]') && !answer.includes('machine-service') && /refused|unreachable|failed/i.test(answer), `port ${target}: ${answer}`);
    }
    assert.equal(await reply(`tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '`), 'lo\n', 'its only interface is loopback');

    await server.call('POST', '/pause', { runtime_id: runtime.runtime_id });
    await server.call('POST', '/resume', { runtime_id: runtime.runtime_id });
    await waitReady(server, runtime.runtime_id);
    assert.equal(await reply('echo back'), 'back\n');
  });

  test('the OpenHands agent server answers through the ingress, from its socket relay', async (t) => {
    const agentServer = await resolveAgentServer({ explicitPath: process.env.OPENHANDS_AGENT_SERVER_PATH, toolsDir: PROJECT_TOOLS_DIR, install: false });
    const server = await startTestServer(t, { agent: 'openhands', openhands: { server: agentServer }, isolation: { network: 'none' } });
    const runtime = await startRuntime(server, 'offline-openhands');
    await waitReady(server, runtime.runtime_id, READY_TIMEOUT_MS);
    const search = await sandboxCall(runtime, 'GET', '/api/conversations/search');
    assert.deepEqual([search.status, search.body.items], [200, []]);
  });
});
