// Start, use, stop and list runtimes, with real sandboxes under both drivers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DriverName } from '../../src/local-runtime/drivers/driver.js';
import {
  createConversation,
  groupAlive,
  sandboxCall,
  sendText,
  startRuntime,
  startTestServer,
  waitFor,
  waitReady,
} from './support.js';

for (const driver of ['process', 'inproc'] as const satisfies readonly DriverName[]) {
  describe(`lifecycle (${driver} driver)`, () => {
    test('a runtime goes pending → running → ready and serves a conversation through the ingress', async (t) => {
      const server = await startTestServer(t, { driver });
      const started = await server.call('POST', '/start', { image: 'any/image:tag', session_id: 'conv-1' });
      assert.equal(started.status, 200);
      assert.equal(started.body.pod_status, 'pending');
      assert.equal(started.body.status, 'starting');
      assert.equal(started.body.url, `${server.url}/sandboxes/${started.body.runtime_id}`);
      assert.ok(started.body.session_api_key.length >= 32);

      const seen = await waitReady(server, started.body.runtime_id);
      const order = ['pending', 'running', 'ready'];
      assert.deepEqual(seen, [...seen].sort((a, b) => order.indexOf(a) - order.indexOf(b)), `pod statuses out of order: ${seen}`);
      assert.equal(seen.at(-1), 'ready');

      const session = await server.call('GET', '/sessions/conv-1');
      assert.equal(session.status, 200);
      assert.equal(session.body.status, 'running');
      assert.equal(session.body.runtime_id, started.body.runtime_id);
      const [host, port] = Object.entries(session.body.work_hosts as Record<string, number>)[0]!;
      assert.equal(host, `127.0.0.1:${port}`);

      const runtime = started.body;
      const conversationId = await createConversation(runtime);
      assert.equal((await sendText(runtime, conversationId, 'echo hi')).status, 200);
      const reply = await waitFor('the reply event', async () => {
        const page = await sandboxCall(runtime, 'GET', `/api/conversations/${conversationId}/events/search?kind=MessageEvent`);
        return page.body.items.find((event: { source: string }) => event.source === 'agent');
      });
      assert.equal(reply.llm_message.content[0].text, 'hi\n');

      const direct = await fetch(`http://${host}/api/conversations/${conversationId}`, { headers: { 'x-session-api-key': runtime.session_api_key } });
      assert.equal(direct.status, 200, 'the sandbox is reachable directly through work_hosts');
      const wrongKey = await fetch(`${runtime.url}/api/conversations/${conversationId}`, { headers: { 'x-session-api-key': 'nope' } });
      assert.equal(wrongKey.status, 401, 'the ingress passes the session key check on to the sandbox');
    });

    test('a second /start for a session returns the same runtime', async (t) => {
      const server = await startTestServer(t, { driver });
      const [first, second] = await Promise.all([startRuntime(server, 'same'), startRuntime(server, 'same')]);
      assert.equal(second.runtime_id, first.runtime_id);
      assert.equal(second.session_api_key, first.session_api_key);
      await waitReady(server, first.runtime_id);
      const again = await startRuntime(server, 'same');
      assert.equal(again.runtime_id, first.runtime_id);
      const list = await server.call('GET', '/list');
      assert.equal(list.body.total, 1);
      assert.equal(list.body.runtimes[0].session_id, 'same');
    });

    test('stop ends the sandbox; the ingress then answers 404 and /start makes a new runtime', async (t) => {
      const server = await startTestServer(t, { driver });
      const runtime = await startRuntime(server, 'to-stop', { environment: { GREETING: 'hello' } });
      await waitReady(server, runtime.runtime_id);
      const pid = server.sandboxPid(runtime.runtime_id);
      assert.equal(pid === undefined, driver === 'inproc');

      assert.equal((await server.call('POST', '/stop', { runtime_id: runtime.runtime_id })).status, 200);
      if (pid !== undefined) assert.equal(groupAlive(pid), false, 'the sandbox process group is gone');
      const info = await server.call('GET', `/runtime/${runtime.runtime_id}`);
      assert.deepEqual([info.body.status, info.body.pod_status], ['stopped', 'not found']);
      assert.equal((await sandboxCall(runtime, 'GET', '/alive')).status, 404);
      assert.equal((await server.call('GET', '/sessions/to-stop')).body.status, 'stopped');
      assert.equal((await server.call('POST', '/stop', { runtime_id: runtime.runtime_id })).status, 200, 'stop is idempotent');

      const next = await startRuntime(server, 'to-stop');
      assert.notEqual(next.runtime_id, runtime.runtime_id);
      assert.notEqual(next.session_api_key, runtime.session_api_key);
      assert.equal((await server.call('GET', '/sessions/to-stop')).body.runtime_id, next.runtime_id);
      assert.equal((await server.call('GET', '/list')).body.total, 2, 'the stopped runtime is still listed');
    });

    test('stopped runtimes drop out of /list after the retention time', async (t) => {
      const server = await startTestServer(t, { driver, stoppedRetentionMs: 200 });
      const runtime = await startRuntime(server, 'short-lived');
      await server.call('POST', '/stop', { runtime_id: runtime.runtime_id });
      assert.equal((await server.call('GET', '/list')).body.total, 1);
      await waitFor('the stopped runtime to expire', async () => ((await server.call('GET', '/list')).body.total === 0 ? true : undefined));
      assert.equal((await server.call('GET', `/runtime/${runtime.runtime_id}`)).status, 404);
      assert.equal((await server.call('GET', '/sessions/short-lived')).status, 404);
    });
  });
}

describe('shutdown', () => {
  test('close() with several runtimes running leaves no sandbox process', async (t) => {
    const server = await startTestServer(t);
    const runtimes = await Promise.all(['a', 'b', 'c'].map((sid) => startRuntime(server, sid)));
    await Promise.all(runtimes.map((runtime) => waitReady(server, runtime.runtime_id)));
    const pids = runtimes.map((runtime) => server.sandboxPid(runtime.runtime_id)!);
    await sendText(runtimes[0]!, await createConversation(runtimes[0]!), 'sleep 30');
    await server.call('POST', '/pause', { runtime_id: runtimes[1]!.runtime_id });
    assert.ok(pids.every(groupAlive));
    await server.close();
    assert.deepEqual(pids.map(groupAlive), [false, false, false]);
  });
});
