// The control plane's HTTP surface: authentication, validation, lookups, and what a
// sandbox gets from /start.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request as httpRequest } from 'node:http';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { createConversation, http, sandboxCall, startRuntime, startTestServer, waitFor, waitReady } from './support.js';

describe('runtime API surface', () => {
  test('every route but /health needs the right X-API-Key', async (t) => {
    const server = await startTestServer(t, { driver: 'inproc' });
    assert.deepEqual(await http('GET', `${server.url}/health`), { status: 200, body: { status: 'ok' } });
    assert.equal((await http('GET', `${server.url}/list`)).status, 401);
    assert.equal((await server.call('GET', '/list', undefined, { 'x-api-key': 'wrong' })).status, 401);
    assert.equal((await server.call('GET', '/list', undefined, { 'x-api-key': 'test-api-key-but-longer' })).status, 401);
    const start = await http('POST', `${server.url}/start`, { image: 'x', session_id: 's' });
    assert.deepEqual([start.status, start.body], [401, { detail: 'Unauthorized' }]);
    assert.equal((await server.call('GET', '/list')).body.total, 0, 'nothing was started');
  });

  test('the ingress wants the runtime\'s session key or the Runtime API key for everything but liveness', async (t) => {
    const server = await startTestServer(t);
    const [mine, other] = [await startRuntime(server, 'keys-a'), await startRuntime(server, 'keys-b')];
    await Promise.all([waitReady(server, mine.runtime_id), waitReady(server, other.runtime_id)]);
    for (const path of ['/alive', '/health']) assert.equal((await http('GET', `${mine.url}${path}`)).status, 200, `${path} is open`);
    const refused = { status: 401, body: { detail: 'missing or wrong X-Session-API-Key' } };
    for (const path of ['/server_info', '/api/conversations/search', '/sockets/events/x']) {
      assert.deepEqual(await http('GET', `${mine.url}${path}`), refused, `${path} without a key`);
      assert.deepEqual(await http('GET', `${mine.url}${path}`, undefined, { 'x-session-api-key': other.session_api_key }), refused, `${path} with another runtime's key`);
      assert.deepEqual(await http('GET', `${mine.url}${path}?session_api_key=${other.session_api_key}`), refused, `${path} with another runtime's key as a parameter`);
    }
    assert.deepEqual(await http('POST', `${mine.url}/api/conversations`, {}), refused, 'nothing reaches the sandbox');
    assert.equal((await sandboxCall(mine, 'GET', '/server_info')).status, 200, 'its own key opens it');
    assert.equal((await http('GET', `${mine.url}/server_info`, undefined, { 'x-api-key': 'test-api-key' })).status, 200, 'so does the Runtime API key');
  });

  test('unknown runtimes and sessions are 404', async (t) => {
    const server = await startTestServer(t, { driver: 'inproc' });
    assert.equal((await server.call('GET', '/runtime/nope')).status, 404);
    assert.equal((await server.call('GET', '/sessions/nope')).status, 404);
    for (const action of ['/pause', '/resume', '/stop']) assert.equal((await server.call('POST', action, { runtime_id: 'nope' })).status, 404, action);
    assert.equal((await http('GET', `${server.url}/sandboxes/nope/alive`)).status, 404);
    assert.equal((await http('GET', `${server.url}/sandboxes/%zz/alive`)).status, 404);
  });

  test('bad requests: 400 bad JSON, 413 too large, 422 invalid', async (t) => {
    const server = await startTestServer(t, { driver: 'inproc', maxBodyBytes: 4096 });
    assert.equal((await server.call('POST', '/start', '{"image": ')).status, 400);
    assert.equal((await server.call('POST', '/start', { image: 'x', session_id: 's', command: ['y'.repeat(5000)] })).status, 413);
    const missing = await server.call('POST', '/start', { image: 'x' });
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.body.detail[0].loc, ['session_id']);
    assert.equal((await server.call('POST', '/start', { image: '', session_id: 's' })).status, 422);
    assert.equal((await server.call('POST', '/start', { image: 'x', session_id: 's', environment: { 'A=B': 'c' } })).status, 422);
    assert.equal((await server.call('POST', '/stop', {})).status, 422);
    assert.equal((await server.call('GET', '/image_exists')).status, 422);
    assert.equal((await server.call('GET', '/list')).body.total, 0);
  });

  test('registry_prefix and image_exists', async (t) => {
    const server = await startTestServer(t, { driver: 'inproc' });
    assert.deepEqual((await server.call('GET', '/registry_prefix')).body, { registry_prefix: 'local' });
    assert.deepEqual((await server.call('GET', '/image_exists?image=ghcr.io/all-hands-ai/runtime:x')).body, { exists: true });
  });

  test('a session id cannot place a workspace outside the data folder', async (t) => {
    const server = await startTestServer(t, { driver: 'inproc' });
    const runtime = await startRuntime(server, '../../escape');
    await waitReady(server, runtime.runtime_id);
    const [folder] = await readdir(join(server.dataDir, 'workspaces'));
    assert.match(folder!, /^sid-[0-9a-f]{40}$/);
    assert.deepEqual((await readdir(server.dataDir)).sort(), ['workspaces']);
  });

  test('a process sandbox gets the /start environment, not the server secrets, and keys stay out of the log', async (t) => {
    process.env.LOCAL_RUNTIME_TEST_SECRET = 'server-only';
    t.after(() => delete process.env.LOCAL_RUNTIME_TEST_SECRET);
    const server = await startTestServer(t);
    const runtime = await startRuntime(server, 'env', { environment: { GREETING: 'hello-from-start' } });
    await waitReady(server, runtime.runtime_id);
    // The sandbox's own commands get a scrubbed environment (its choice), so look at the process.
    const environ = (await readFile(`/proc/${server.sandboxPid(runtime.runtime_id)}/environ`, 'utf8')).split('\0');
    assert.ok(environ.includes('GREETING=hello-from-start'));
    assert.ok(!environ.some((entry) => entry.startsWith('LOCAL_RUNTIME_TEST_SECRET=')));
    assert.ok(environ.includes(`SESSION_API_KEY=${runtime.session_api_key}`));
    const log = server.logs.join('\n');
    assert.ok(log.includes(runtime.runtime_id));
    assert.ok(!log.includes(runtime.session_api_key) && !log.includes('hello-from-start'));
  });

  test('the ingress streams request and response bodies both ways', async (t) => {
    const server = await startTestServer(t, { driver: 'inproc' });
    const runtime = await startRuntime(server, 'stream');
    await waitReady(server, runtime.runtime_id);
    const conversationId = await createConversation(runtime);
    const res = await request(`${runtime.url}/api/conversations/${conversationId}/events`, {
      method: 'POST',
      headers: { 'x-session-api-key': runtime.session_api_key, 'content-type': 'application/json' },
      // A streamed body arrives with chunked transfer-encoding, no content-length.
      body: Readable.from(['{"role":"user","content":[{"type":"text",', '"text":"printf %s streamed"}],"run":true}']),
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { success: true });
    const page = await waitFor('the reply', async () => {
      const reply = await sandboxCall(runtime, 'GET', `/api/conversations/${conversationId}/events/search?kind=MessageEvent&sort_order=TIMESTAMP_DESC`);
      return reply.body.items[0]?.source === 'agent' ? reply.body : undefined;
    });
    assert.equal(page.items[0].llm_message.content[0].text, 'streamed');
  });

  test('WebSocket upgrades get the ingress answers too: 404 unknown, 401 wrong key, 503 paused', async (t) => {
    const server = await startTestServer(t, { driver: 'inproc' });
    const runtime = await startRuntime(server, 'ws');
    await waitReady(server, runtime.runtime_id);
    await server.call('POST', '/pause', { runtime_id: runtime.runtime_id });
    const upgrade = (url: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(url, { headers: { connection: 'Upgrade', upgrade: 'websocket' } });
        req.on('response', (res) => resolve(res.statusCode!)).on('upgrade', () => reject(new Error('upgraded'))).on('error', reject);
        req.end();
      });
    assert.equal(await upgrade(`${server.url}/sandboxes/nope/sockets/events/x`), 404);
    assert.equal(await upgrade(`${runtime.url}/sockets/events/x?session_api_key=wrong`), 401);
    assert.equal(await upgrade(`${runtime.url}/sockets/events/x?session_api_key=${runtime.session_api_key}`), 503);
  });
});
