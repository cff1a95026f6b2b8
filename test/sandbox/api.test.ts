// The agent-server HTTP surface: auth, health, idempotent create, limits and error
// codes, message recording and event paging, against a real server on port 0.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readFile } from 'node:fs/promises';
import { AGENT, Api, startTestServer, workspaceFor } from './support.js';

describe('auth and health', () => {
  test('health routes are open; /api needs a listed X-Session-API-Key', async (t) => {
    const { server, api } = await startTestServer(t, { sessionApiKeys: ['key-one', 'key-two'] });
    const anonymous = new Api(server.url, undefined);
    for (const path of ['/alive', '/health']) assert.deepEqual(await anonymous.call('GET', path), { status: 200, body: { status: 'ok' } });
    const info = await anonymous.call('GET', '/server_info');
    assert.equal(info.status, 200);
    assert.equal(typeof (info.body as { uptime: number }).uptime, 'number');
    assert.equal(typeof (info.body as { idle_time: number }).idle_time, 'number');

    assert.deepEqual(await anonymous.call('GET', '/api/conversations/count'), { status: 401, body: { detail: 'Unauthorized' } });
    assert.deepEqual(await api.call('GET', '/api/conversations/count'), { status: 401, body: { detail: 'Unauthorized' } });
    assert.deepEqual(await new Api(server.url, 'key-tw').call('GET', '/api/conversations/count'), { status: 401, body: { detail: 'Unauthorized' } });
    assert.deepEqual(await new Api(server.url, 'key-two').call('GET', '/api/conversations/count'), { status: 200, body: 0 });
  });

  test('an empty key list means no auth', async (t) => {
    const { server } = await startTestServer(t, { sessionApiKeys: [] });
    assert.deepEqual(await new Api(server.url, undefined).call('GET', '/api/conversations/count'), { status: 200, body: 0 });
  });
});

describe('conversations', () => {
  test('create answers 201, then 200 with the current info for the same id', async (t) => {
    const { api, workspaceDir } = await startTestServer(t);
    const id = randomUUID();
    const first = await api.call('POST', '/api/conversations', { agent: AGENT, workspace: workspaceFor(id), conversation_id: id, tags: { team: 'a' } });
    assert.equal(first.status, 201);
    const info = first.body as Record<string, unknown>;
    assert.equal(info['id'], id);
    assert.equal(info['execution_status'], 'idle');
    assert.deepEqual(info['tags'], { team: 'a' });
    assert.equal((info['agent'] as { llm: { api_key: string } }).llm.api_key, '**********', 'the LLM key is never echoed');
    assert.ok(existsSync(join(workspaceDir, id)), 'workspace folder created');

    const again = await api.call('POST', '/api/conversations', { agent: AGENT, workspace: workspaceFor(id), conversation_id: id });
    assert.equal(again.status, 200);
    assert.equal((again.body as { created_at: string }).created_at, info['created_at']);
    assert.deepEqual((await api.call('GET', `/api/conversations/${id}`)).body, again.body);

    const generated = await api.call('POST', '/api/conversations', { agent: AGENT, workspace: workspaceFor('generated') });
    assert.equal(generated.status, 201);
    assert.match((generated.body as { id: string }).id, /^[0-9a-f-]{36}$/);
    assert.equal((await api.call('GET', '/api/conversations/count')).body, 2);
    assert.equal((await api.call('GET', '/api/conversations/count?status=idle')).body, 2);
    assert.equal((await api.call('GET', '/api/conversations/count?status=running')).body, 0);
  });

  test('bad input gets 400/404/405/413/422, never 500', async (t) => {
    const { api } = await startTestServer(t, { maxBodyBytes: 2048 });
    const id = await api.create();
    const expect = async (status: number, reply: Promise<{ status: number; body: unknown }>, detail?: RegExp): Promise<void> => {
      const { status: got, body } = await reply;
      assert.equal(got, status, JSON.stringify(body));
      if (detail) assert.match(JSON.stringify((body as { detail: unknown }).detail), detail);
    };
    await expect(422, api.call('GET', `/api/conversations/${id}/events/search?limit=0`), /limit/);
    await expect(422, api.call('GET', `/api/conversations/${id}/events/search?limit=101`), /limit/);
    await expect(422, api.call('GET', `/api/conversations/${id}/events/search?page_id=nope`), /page_id/);
    await expect(422, api.call('GET', '/api/conversations/count?status=sleeping'), /status/);
    await expect(413, api.send(id, 'x'.repeat(4096)));
    await expect(400, api.call('POST', `/api/conversations/${id}/events`, '{"role": "user",'));
    await expect(422, api.call('POST', `/api/conversations/${id}/events`, { role: 'user' }), /content/);
    await expect(422, api.call('POST', '/api/conversations', { agent: AGENT, workspace: workspaceFor('x'), conversation_id: 'not-a-uuid' }), /conversation_id/);
    await expect(422, api.call('POST', '/api/conversations', {}), /agent/);
    await expect(422, api.call('POST', '/api/conversations', { agent: AGENT }), /workspace/);
    const unknown = randomUUID();
    await expect(404, api.call('GET', `/api/conversations/${unknown}`));
    await expect(404, api.send(unknown, 'echo hi'));
    await expect(404, api.call('POST', `/api/conversations/${unknown}/run`));
    await expect(404, api.call('POST', `/api/conversations/${unknown}/pause`));
    await expect(404, api.call('POST', `/api/conversations/${unknown}/interrupt`));
    await expect(404, api.call('GET', `/api/conversations/${unknown}/events/count`));
    await expect(404, api.call('DELETE', `/api/conversations/${unknown}`));
    await expect(404, api.call('GET', `/api/conversations/${unknown}/events/search`));
    await expect(404, api.call('GET', '/api/no-such-route'));
    await expect(405, api.call('PUT', '/api/conversations'));
    await expect(405, api.call('POST', '/alive'));
    assert.equal(await api.status(id), 'idle', 'the server still works (no run yet)');
  });
});

describe('messages and events', () => {
  test('like the real server, a message posted twice (whatever its Idempotency-Key) is recorded and run twice; events/count counts them', async (t) => {
    const { api, workspaceDir } = await startTestServer(t);
    const id = await api.create();
    const headers = { 'idempotency-key': 'msg-1' };
    assert.deepEqual((await api.send(id, 'echo ran >> runs.txt', true, headers)).body, { success: true });
    assert.deepEqual((await api.send(id, 'echo ran >> runs.txt', true, headers)).body, { success: true });
    await api.waitForStatus(id, 'finished');
    assert.equal(await readFile(join(workspaceDir, id, 'runs.txt'), 'utf8'), 'ran\nran\n');
    const userMessages = (await api.events(id, 'MessageEvent')).filter((e) => e['source'] === 'user');
    assert.equal(userMessages.length, 2);
    assert.equal((await api.call('GET', `/api/conversations/${id}/events/count?kind=MessageEvent&source=user`)).body, 2);
    assert.equal((await api.call('GET', `/api/conversations/${id}/events/count?source=agent&kind=MessageEvent`)).body, 2);
    const countSince = async (since: string) =>
      (await api.call('GET', `/api/conversations/${id}/events/count?kind=MessageEvent&source=user&timestamp__gte=${encodeURIComponent(since)}`)).body;
    assert.equal(await countSince(userMessages[0]!['timestamp'] as string), 2);
    assert.equal(await countSince('2999-01-01T00:00:00.000Z'), 0);
  });

  test('events page with a cursor, in order, filtered by kind, both directions', async (t) => {
    const { api } = await startTestServer(t);
    const id = await api.create();
    for (let i = 0; i < 25; i += 1) await api.send(id, `message ${i}`, false);
    const texts: string[] = [];
    let page: string | null = null;
    let pages = 0;
    do {
      const reply = await api.call('GET', `/api/conversations/${id}/events/search?limit=10${page ? `&page_id=${page}` : ''}`);
      const body = reply.body as { items: { kind: string; llm_message: { content: { text: string }[] } }[]; next_page_id: string | null };
      assert.ok(body.items.length <= 10);
      texts.push(...body.items.map((e) => e.llm_message.content[0]?.text ?? ''));
      page = body.next_page_id;
      pages += 1;
    } while (page !== null);
    assert.equal(pages, 3);
    assert.deepEqual(texts, Array.from({ length: 25 }, (_, i) => `message ${i}`));

    const all = await api.events(id);
    const timestamps = all.map((e) => String(e['timestamp']));
    assert.deepEqual([...timestamps].sort(), timestamps, 'ascending timestamps');
    const desc = await api.call('GET', `/api/conversations/${id}/events/search?sort_order=TIMESTAMP_DESC&limit=3`);
    assert.deepEqual(
      (desc.body as { items: { id: string }[] }).items.map((e) => e.id),
      all.slice(-3).reverse().map((e) => e['id']),
    );
    assert.equal((await api.events(id, 'ActionEvent')).length, 0, 'run:false executes nothing');
  });
});
