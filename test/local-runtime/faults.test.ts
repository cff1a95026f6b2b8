// Crashes, restarts and injected faults.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { DriverName } from '../../src/local-runtime/drivers/driver.js';
import { API_KEY, groupAlive, sandboxCall, startRuntime, startTestServer, waitFor, waitReady } from './support.js';

for (const driver of ['process', 'inproc'] as const satisfies readonly DriverName[]) {
  describe(`injected sandbox faults (${driver} driver)`, () => {
    test('crashOnStart restarts maxRestarts times, then crashloopbackoff', async (t) => {
      const server = await startTestServer(t, { driver, maxRestarts: 2, faults: { crashOnStart: true } });
      const runtime = await startRuntime(server, 'crashy');
      const info = await waitFor('crashloopbackoff', async () => {
        const { body } = await server.call('GET', `/runtime/${runtime.runtime_id}`);
        return body.pod_status === 'crashloopbackoff' ? body : undefined;
      });
      assert.equal(info.status, 'error');
      assert.equal(info.restart_count, 2);
      assert.equal(info.restart_reasons.length, 2);
      assert.match(info.restart_reasons[0], /exited with code 1/);
      await sleep(300);
      assert.equal((await server.call('GET', `/runtime/${runtime.runtime_id}`)).body.restart_count, 2, 'no restarts after giving up');
      assert.equal((await sandboxCall(runtime, 'GET', '/alive')).status, 502);
      assert.equal((await server.call('POST', '/pause', { runtime_id: runtime.runtime_id })).status, 409);
      assert.equal((await startRuntime(server, 'crashy')).runtime_id, runtime.runtime_id, 'a failed runtime stays until stopped');
      assert.equal((await server.call('POST', '/stop', { runtime_id: runtime.runtime_id })).status, 200);
      assert.equal((await server.call('GET', `/runtime/${runtime.runtime_id}`)).body.status, 'stopped');
    });

    test('neverReady leaves the pod running, and the ingress answers 502', async (t) => {
      const server = await startTestServer(t, { driver, faults: { neverReady: true } });
      const runtime = await startRuntime(server, 'never');
      await waitFor('pod running', async () => ((await server.call('GET', `/runtime/${runtime.runtime_id}`)).body.pod_status === 'running' ? true : undefined));
      await sleep(driver === 'process' ? 1500 : 300); // longer than a sandbox needs to start
      const info = await server.call('GET', `/runtime/${runtime.runtime_id}`);
      assert.deepEqual([info.body.status, info.body.pod_status], ['starting', 'running']);
      assert.equal((await sandboxCall(runtime, 'GET', '/alive')).status, 502);
    });

    test('startDelayMs holds the pod back; the ingress answers 502 until it is ready', async (t) => {
      const server = await startTestServer(t, { driver, faults: { startDelayMs: 400 } });
      const began = Date.now();
      const runtime = await startRuntime(server, 'slow');
      const early = await sandboxCall(runtime, 'GET', '/alive');
      assert.deepEqual([early.status, early.body], [502, { detail: 'runtime is not reachable' }]);
      await waitReady(server, runtime.runtime_id);
      assert.ok(Date.now() - began >= 400);
      assert.equal((await sandboxCall(runtime, 'GET', '/alive')).status, 200);
    });
  });
}

describe('crashes (process driver)', () => {
  test('a killed sandbox is restarted and becomes ready again', async (t) => {
    const server = await startTestServer(t);
    const runtime = await startRuntime(server, 'killed');
    await waitReady(server, runtime.runtime_id);
    const first = server.sandboxPid(runtime.runtime_id)!;
    process.kill(first, 'SIGKILL');
    await waitFor('a restart', async () => ((await server.call('GET', `/runtime/${runtime.runtime_id}`)).body.restart_count === 1 ? true : undefined));
    await waitReady(server, runtime.runtime_id);
    const info = await server.call('GET', `/runtime/${runtime.runtime_id}`);
    assert.equal(info.body.restart_count, 1);
    assert.deepEqual(info.body.restart_reasons, ['killed by signal SIGKILL']);
    assert.notEqual(server.sandboxPid(runtime.runtime_id), first);
    assert.equal(groupAlive(first), false);
    assert.equal((await sandboxCall(runtime, 'GET', '/alive')).status, 200);
  });

  test('a sandbox that is down answers 502 through the ingress', async (t) => {
    const server = await startTestServer(t, { maxRestarts: 0 });
    const runtime = await startRuntime(server, 'down');
    await waitReady(server, runtime.runtime_id);
    process.kill(server.sandboxPid(runtime.runtime_id)!, 'SIGKILL');
    await waitFor('crashloopbackoff', async () => ((await server.call('GET', `/runtime/${runtime.runtime_id}`)).body.status === 'error' ? true : undefined));
    const reply = await sandboxCall(runtime, 'GET', '/api/conversations/count');
    assert.deepEqual([reply.status, reply.body], [502, { detail: 'runtime is not reachable' }]);
  });
});

describe('injected request faults', () => {
  test('errorRate answers the configured status, naming the fault', async (t) => {
    const server = await startTestServer(t, { driver: 'inproc', faults: { errorRate: { endpoints: ['POST /start', 'GET /runtime'], rate: 1, status: 503 } } });
    const start = await server.call('POST', '/start', { image: 'x', session_id: 's' });
    assert.deepEqual([start.status, start.body], [503, { detail: 'injected fault: errorRate on POST /start' }]);
    assert.equal((await server.call('GET', '/runtime/abc')).status, 503);
    assert.equal((await server.call('GET', '/list')).status, 200, 'other endpoints are untouched');
    assert.equal((await server.call('GET', '/list', undefined, { 'x-api-key': 'wrong' })).status, 401, 'authentication comes first');
  });

  test('hangEndpoints never answer until the client gives up', async (t) => {
    const server = await startTestServer(t, { driver: 'inproc', faults: { hangEndpoints: ['GET /list'] } });
    await assert.rejects(
      request(`${server.url}/list`, { headers: { 'x-api-key': API_KEY }, headersTimeout: 300 }),
      (error: Error) => error.name === 'HeadersTimeoutError',
    );
    assert.equal((await server.call('GET', '/registry_prefix')).status, 200);
  });

  test('a hanging request ends when the server closes', async (t) => {
    const server = await startTestServer(t, { driver: 'inproc', faults: { hangEndpoints: ['GET /list'] } });
    const pending = request(`${server.url}/list`, { headers: { 'x-api-key': API_KEY } }).then(
      (res) => res.statusCode,
      () => 'connection closed',
    );
    await sleep(100);
    await server.close();
    assert.ok([503, 'connection closed'].includes(await pending));
  });
});
