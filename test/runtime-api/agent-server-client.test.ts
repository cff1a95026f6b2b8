import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AgentServerClient,
  BadRequestError,
  InvalidResponseError,
  RateLimitedError,
  RequestTimeoutError,
  RuntimeDisconnectedError,
  RuntimePausedError,
  ServerError,
  UnauthorizedError,
  createAgentServerDispatcher,
} from '../../src/runtime-api/index.js';
import type { RuntimeHttpError } from '../../src/runtime-api/index.js';
import { startScriptedServer } from '../support/scripted-server.js';
import type { ScriptedServer } from '../support/scripted-server.js';

const CID = '0b0cdd5b-8a5e-4f0e-9a57-3f8a1c2f9e11';
const PREFIX = '/sandboxes/abc';
const info = { id: CID, execution_status: 'idle', title: null };
const message = { content: [{ type: 'text' as const, text: 'hello' }] };

let server: ScriptedServer;
let client: AgentServerClient;
const last = () => server.requests.at(-1)!;

before(async () => {
  server = await startScriptedServer();
  // The runtime URL carries a path prefix; every request must keep it.
  client = new AgentServerClient({ baseUrl: `${server.url}${PREFIX}`, sessionApiKey: 'session-key-1' });
});
after(async () => {
  await client.close();
  await server.close();
});

describe('AgentServerClient requests', () => {
  test('alive is true on a 2xx whatever the body, and sends the session key', async () => {
    server.script('GET', `${PREFIX}/alive`, { body: 'OK' });
    assert.equal(await client.alive(), true);
    assert.equal(last().headers['x-session-api-key'], 'session-key-1');
    assert.equal(last().headers['x-api-key'], undefined);
  });

  test('health returns the status body', async () => {
    server.script('GET', `${PREFIX}/health`, { body: { status: 'ok' } });
    assert.deepEqual(await client.health(), { status: 'ok' });
  });

  test('serverInfo returns the uptime (seconds), other fields kept', async () => {
    server.script('GET', `${PREFIX}/server_info`, { body: { uptime: 12, idle_time: 3 } });
    assert.deepEqual(await client.serverInfo(), { uptime: 12, idle_time: 3 });
  });

  test('createConversation: 201 → created, 200 → existing; body is the request as JSON', async () => {
    const request = {
      agent: { llm: { model: 'm', api_key: 'k' } },
      workspace: { kind: 'LocalWorkspace', working_dir: '/workspace/project/c1' },
      conversation_id: CID,
      initial_message: message,
    };
    server.script('POST', `${PREFIX}/api/conversations`, { status: 201, body: info });
    assert.deepEqual(await client.createConversation(request), { info, created: true });
    const sent = JSON.parse(last().body) as typeof request & { agent: { kind: string } };
    assert.equal(last().headers['content-type'], 'application/json');
    assert.equal(sent.conversation_id, CID);
    assert.equal(sent.agent.kind, 'Agent');
    assert.deepEqual(sent.agent.llm, request.agent.llm);
    assert.deepEqual(sent.workspace, request.workspace);
    server.script('POST', `${PREFIX}/api/conversations`, { status: 200, body: { ...info, execution_status: 'running' } });
    const again = await client.createConversation(request);
    assert.equal(again.created, false);
    assert.equal(again.info.execution_status, 'running');
  });

  test('getConversation encodes the id in the prefixed path', async () => {
    server.script('GET', `${PREFIX}/api/conversations/${CID}`, { body: info });
    assert.equal((await client.getConversation(CID)).id, CID);
    assert.equal(last().path, `${PREFIX}/api/conversations/${CID}`);
  });

  test('sendMessage posts the message with defaults; 429 means saved with no run started', async () => {
    const route = `${PREFIX}/api/conversations/${CID}/events`;
    server.script('POST', route, { body: { success: true } });
    assert.deepEqual(await client.sendMessage(CID, message), { saved: true, runStarted: false });
    assert.deepEqual(JSON.parse(last().body), { role: 'user', content: message.content, run: false });
    assert.deepEqual(await client.sendMessage(CID, { ...message, run: true }), { saved: true, runStarted: true });
    assert.equal((JSON.parse(last().body) as { run: boolean }).run, true);
    server.script('POST', route, { status: 429, body: { detail: 'Server conversation run capacity is full' } });
    assert.deepEqual(await client.sendMessage(CID, { ...message, run: true }), { saved: true, runStarted: false });
  });

  test('countEvents passes kind, source and timestamp filters', async () => {
    server.script('GET', `${PREFIX}/api/conversations/${CID}/events/count`, { body: 2 });
    assert.equal(await client.countEvents(CID, { kind: 'MessageEvent', source: 'user' }), 2);
    assert.deepEqual(Object.fromEntries(last().query), { kind: 'MessageEvent', source: 'user' });
  });

  test('interrupt: 200 → true, 404 → false (unknown id)', async () => {
    const route = `${PREFIX}/api/conversations/${CID}/interrupt`;
    server.script('POST', route, { body: { success: true } });
    assert.equal(await client.interrupt(CID), true);
    server.script('POST', route, { status: 404, body: { detail: 'Not Found' } });
    assert.equal(await client.interrupt(CID), false);
  });

  test('sendMessage refuses an empty message before sending', async () => {
    const count = server.requests.length;
    await assert.rejects(client.sendMessage(CID, { content: [] }), BadRequestError);
    assert.equal(server.requests.length, count);
  });

  test('run: 200 → started, 409 → already running, 429 → capacity full (answers, not errors)', async () => {
    server.script('POST', `${PREFIX}/api/conversations/${CID}/run`, { body: { success: true } });
    assert.equal(await client.run(CID), 'started');
    server.script('POST', `${PREFIX}/api/conversations/${CID}/run`, { status: 409, body: { detail: 'already running' } });
    assert.equal(await client.run(CID), 'already-running');
    server.script('POST', `${PREFIX}/api/conversations/${CID}/run`, { status: 429, body: { detail: 'capacity' } });
    assert.equal(await client.run(CID), 'capacity-full');
  });

  test('pause posts to the pause route', async () => {
    server.script('POST', `${PREFIX}/api/conversations/${CID}/pause`, { body: { success: true } });
    await client.pause(CID);
    assert.equal(last().method, 'POST');
    assert.equal(last().path, `${PREFIX}/api/conversations/${CID}/pause`);
  });

  test('deleteConversation: 200 → true; 404 and 400 (unknown id) → false; 500 throws', async () => {
    const route = `${PREFIX}/api/conversations/${CID}`;
    server.script('DELETE', route, { body: { success: true } });
    assert.equal(await client.deleteConversation(CID), true);
    assert.equal(last().method, 'DELETE');
    server.script('DELETE', route, { status: 404, body: { detail: 'Not Found' } });
    assert.equal(await client.deleteConversation(CID), false);
    server.script('DELETE', route, { status: 400, body: { detail: 'Bad Request' } });
    assert.equal(await client.deleteConversation(CID), false);
    server.script('DELETE', route, { status: 500, body: { detail: 'Internal Server Error' } });
    await assert.rejects(client.deleteConversation(CID), ServerError);
  });

  test('searchEvents sends page_id, limit, kind and sort_order', async () => {
    const page = { items: [{ id: 'e1', kind: 'MessageEvent', timestamp: '2025-01-01T00:00:00', source: 'user', extra: 1 }], next_page_id: 'p2' };
    server.script('GET', `${PREFIX}/api/conversations/${CID}/events/search`, { body: page });
    assert.deepEqual(await client.searchEvents(CID, { page_id: 'p1', limit: 5, kind: 'MessageEvent', sort_order: 'TIMESTAMP_DESC' }), page);
    assert.deepEqual(Object.fromEntries(last().query), { page_id: 'p1', limit: '5', kind: 'MessageEvent', sort_order: 'TIMESTAMP_DESC' });
    await client.searchEvents(CID);
    assert.equal(last().query.toString(), 'limit=100&sort_order=TIMESTAMP');
  });

  test('count passes the status filter only when given', async () => {
    server.script('GET', `${PREFIX}/api/conversations/count`, { body: 3 });
    assert.equal(await client.count('running'), 3);
    assert.equal(last().query.get('status'), 'running');
    assert.equal(await client.count(), 3);
    assert.equal(last().query.toString(), '');
  });

  test('no session key → no X-Session-API-Key header', async () => {
    const anonymous = new AgentServerClient({ baseUrl: `${server.url}${PREFIX}` });
    try {
      server.script('GET', `${PREFIX}/health`, { body: { status: 'ok' } });
      await anonymous.health();
      assert.equal(last().headers['x-session-api-key'], undefined);
    } finally {
      await anonymous.close();
    }
  });
});

describe('AgentServerClient status mapping', () => {
  const cases: Array<[number, new (...args: never[]) => RuntimeHttpError, boolean]> = [
    [400, BadRequestError, false],
    [401, UnauthorizedError, false],
    [403, UnauthorizedError, false],
    [404, RuntimeDisconnectedError, true],
    [408, RequestTimeoutError, true],
    [422, BadRequestError, false],
    [429, RateLimitedError, true],
    [500, ServerError, true],
    [502, RuntimeDisconnectedError, true],
    [503, RuntimePausedError, true],
    [504, RuntimeDisconnectedError, true],
  ];
  for (const [status, type, retryable] of cases) {
    test(`${status} → ${type.name}`, async () => {
      server.script('GET', `${PREFIX}/api/conversations/${CID}`, { status, body: { detail: 'x'.repeat(1000) } });
      await assert.rejects(client.getConversation(CID), (error: unknown) => {
        assert.ok(error instanceof type, String(error));
        assert.equal(error.label, 'agent.getConversation');
        assert.equal(error.status, status);
        assert.equal(error.retryable, retryable);
        assert.equal(error.bodyExcerpt?.length, 300);
        assert.ok(error.bodyExcerpt?.startsWith('{"detail":"xxx'));
        return true;
      });
    });
  }

  test('503 on /alive is RuntimePausedError (the runtime is paused)', async () => {
    server.script('GET', `${PREFIX}/alive`, { status: 503, body: 'paused' });
    await assert.rejects(client.alive(), (error: unknown) => error instanceof RuntimePausedError && error.bodyExcerpt === 'paused');
  });

  test('a 2xx that is not JSON, or not the contract, is InvalidResponseError', async () => {
    server.script('GET', `${PREFIX}/api/conversations/${CID}`, { body: '{"id":' });
    await assert.rejects(client.getConversation(CID), InvalidResponseError);
    server.script('GET', `${PREFIX}/api/conversations/count`, { body: { count: 3 } });
    await assert.rejects(client.count(), InvalidResponseError);
  });
});

describe('a shared dispatcher', () => {
  test('serves clients of different runtimes and keys, and outlives their close()', async () => {
    const other = await startScriptedServer();
    const dispatcher = createAgentServerDispatcher({ timeoutMs: 5_000 });
    const a = new AgentServerClient({ baseUrl: `${server.url}/rt-a`, sessionApiKey: 'key-a', dispatcher });
    const b = new AgentServerClient({ baseUrl: `${other.url}/rt-b`, sessionApiKey: 'key-b', dispatcher });
    try {
      server.script('GET', `/rt-a/api/conversations/${CID}`, { body: info });
      other.script('GET', `/rt-b/api/conversations/${CID}`, { body: { ...info, execution_status: 'running' } });
      const [infoA, infoB] = await Promise.all([a.getConversation(CID), b.getConversation(CID)]);
      assert.equal(infoA.execution_status, 'idle');
      assert.equal(infoB.execution_status, 'running');
      assert.equal(last().headers['x-session-api-key'], 'key-a');
      assert.equal(other.requests.at(-1)?.headers['x-session-api-key'], 'key-b');
      await a.close();
      // Closing a client that does not own the dispatcher leaves it usable for the others.
      assert.equal((await b.getConversation(CID)).id, CID);
    } finally {
      await dispatcher.close();
      await other.close();
    }
  });
});
