import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BadRequestError,
  InvalidResponseError,
  NotFoundError,
  RateLimitedError,
  RequestTimeoutError,
  RuntimeApiClient,
  ServerError,
  UnauthorizedError,
} from '../../src/runtime-api/index.js';
import type { RuntimeHttpError } from '../../src/runtime-api/index.js';
import { startScriptedServer } from '../support/scripted-server.js';
import type { ScriptedServer } from '../support/scripted-server.js';

let server: ScriptedServer;
let client: RuntimeApiClient;
const last = () => server.requests.at(-1)!;
const session = { runtime_id: 'rt-1', url: 'http://127.0.0.1:1/rt-1', status: 'RUNNING', session_api_key: 'sk', pod_status: 'Ready' };

before(async () => {
  server = await startScriptedServer();
  client = new RuntimeApiClient({ baseUrl: server.url, apiKey: 'api-key-1' });
});
after(async () => {
  await client.close();
  await server.close();
});

/** Asserts the class and the fields every error carries. */
function failsWith(type: new (...args: never[]) => RuntimeHttpError, label: string, status: number | undefined) {
  return (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.equal(error.label, label);
    assert.equal(error.status, status);
    return true;
  };
}

describe('RuntimeApiClient requests', () => {
  test('getSession sends X-API-Key, encodes the id and normalises statuses', async () => {
    server.script('GET', '/sessions/a%2Fb%20c', { body: session });
    const info = await client.getSession('a/b c');
    assert.equal(info?.status, 'running');
    assert.equal(info?.pod_status, 'ready');
    assert.equal(last().headers['x-api-key'], 'api-key-1');
    assert.equal(last().headers['x-session-api-key'], undefined);
  });

  test('getSession resolves null on 404 (no runtime for the session)', async () => {
    server.script('GET', '/sessions/none', { status: 404, body: { detail: 'not found' } });
    assert.equal(await client.getSession('none'), null);
  });

  test('start posts the request as JSON and returns the runtime', async () => {
    server.script('POST', '/start', { status: 201, body: { runtime_id: 'rt-2', url: 'http://x', session_api_key: 'k2' } });
    const request = { image: 'img:1', session_id: 's-1', command: ['agent', '--port', '60000'], environment: { A: 'b' } };
    const started = await client.start(request);
    assert.deepEqual(started, { runtime_id: 'rt-2', url: 'http://x', session_api_key: 'k2' });
    assert.equal(last().headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(last().body), request);
  });

  test('start rejects an invalid request before sending it', async () => {
    const before = server.requests.length;
    await assert.rejects(client.start({ image: '', session_id: 's' }), failsWith(BadRequestError, 'runtime-api.start', undefined));
    assert.equal(server.requests.length, before);
  });

  test('getRuntime returns pod status and throws NotFoundError with a body excerpt on 404', async () => {
    server.script('GET', '/runtime/rt-1', { body: { runtime_id: 'rt-1', pod_status: 'CrashLoopBackOff' } });
    assert.equal((await client.getRuntime('rt-1')).pod_status, 'crashloopbackoff');
    server.script('GET', '/runtime/gone', { status: 404, body: { detail: 'Runtime not found' } });
    await assert.rejects(client.getRuntime('gone'), (error: unknown) => {
      assert.ok(error instanceof NotFoundError);
      assert.equal(error.label, 'runtime-api.getRuntime');
      assert.equal(error.status, 404);
      assert.equal(error.bodyExcerpt, '{"detail":"Runtime not found"}');
      assert.equal(error.retryable, false);
      assert.match(error.message, /runtime-api\.getRuntime: HTTP 404/);
      return true;
    });
  });

  for (const action of ['pause', 'resume', 'stop'] as const) {
    test(`${action} posts {"runtime_id"} and accepts an empty 200`, async () => {
      server.script('POST', `/${action}`, { status: 200 });
      await client[action]('rt-9');
      assert.equal(last().path, `/${action}`);
      assert.deepEqual(JSON.parse(last().body), { runtime_id: 'rt-9' });
    });
  }

  test('stop resolves on 404 (already gone); pause does not', async () => {
    server.script('POST', '/stop', { status: 404, body: { detail: 'no such runtime' } });
    await client.stop('rt-gone');
    server.script('POST', '/pause', { status: 404, body: { detail: 'no such runtime' } });
    await assert.rejects(client.pause('rt-gone'), failsWith(NotFoundError, 'runtime-api.pause', 404));
  });

  test('list, registryPrefix and imageExists (query string encoded)', async () => {
    server.script('GET', '/list', { body: { runtimes: [{ ...session, session_id: 's-1' }], total: 1 } });
    assert.equal((await client.list()).runtimes[0]?.session_id, 's-1');
    server.script('GET', '/registry_prefix', { body: { registry_prefix: 'ghcr.io/acme' } });
    assert.equal(await client.registryPrefix(), 'ghcr.io/acme');
    server.script('GET', '/image_exists', { body: { exists: true } });
    assert.equal(await client.imageExists('ghcr.io/acme/runtime:1.0&x=y'), true);
    assert.equal(last().query.get('image'), 'ghcr.io/acme/runtime:1.0&x=y');
  });

  test('a base URL path prefix is kept', async () => {
    const prefixed = new RuntimeApiClient({ baseUrl: `${server.url}/api/v2/`, apiKey: 'k' });
    try {
      server.script('GET', '/api/v2/list', { body: { runtimes: [] } });
      assert.deepEqual(await prefixed.list(), { runtimes: [] });
    } finally {
      await prefixed.close();
    }
  });

  test('a dot path parameter is refused instead of changing the route', async () => {
    await assert.rejects(client.getRuntime('..'), failsWith(BadRequestError, 'runtime-api.getRuntime', undefined));
  });
});

describe('RuntimeApiClient status mapping', () => {
  const cases: Array<[number, new (...args: never[]) => RuntimeHttpError, boolean]> = [
    [400, BadRequestError, false],
    [401, UnauthorizedError, false],
    [403, UnauthorizedError, false],
    [404, NotFoundError, false],
    [408, RequestTimeoutError, true],
    [409, BadRequestError, false],
    [422, BadRequestError, false],
    [500, ServerError, true],
    // Only a runtime URL gives 503 the "paused" meaning; on the control plane these are server errors.
    [502, ServerError, true],
    [503, ServerError, true],
    [504, ServerError, true],
  ];
  for (const [status, type, retryable] of cases) {
    test(`${status} → ${type.name}`, async () => {
      server.script('GET', '/list', { status, body: { detail: `status ${status}` } });
      await assert.rejects(client.list(), (error: unknown) => {
        assert.ok(error instanceof type, String(error));
        assert.equal(error.status, status);
        assert.equal(error.retryable, retryable);
        assert.equal(error.bodyExcerpt, `{"detail":"status ${status}"}`);
        return true;
      });
    });
  }

  test('429 carries Retry-After as seconds or as an HTTP date', async () => {
    server.script('GET', '/list', { status: 429, headers: { 'retry-after': '7' }, body: { detail: 'slow down' } });
    await assert.rejects(client.list(), (error: unknown) => error instanceof RateLimitedError && error.retryAfterMs === 7000 && error.retryable);
    const date = new Date(Date.now() + 30_000).toUTCString();
    server.script('GET', '/list', { status: 429, headers: { 'retry-after': date } });
    await assert.rejects(client.list(), (error: unknown) => {
      assert.ok(error instanceof RateLimitedError);
      assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs > 25_000 && error.retryAfterMs <= 30_000, String(error.retryAfterMs));
      assert.equal(error.bodyExcerpt, undefined);
      return true;
    });
  });

  test('a 2xx that is not JSON, or not the contract, is InvalidResponseError', async () => {
    server.script('GET', '/runtime/rt-1', { body: '<html>proxy</html>' });
    await assert.rejects(client.getRuntime('rt-1'), failsWith(InvalidResponseError, 'runtime-api.getRuntime', 200));
    server.script('GET', '/runtime/rt-1', { body: { runtime_id: 'rt-1' } });
    await assert.rejects(client.getRuntime('rt-1'), (error: unknown) => {
      assert.ok(error instanceof InvalidResponseError);
      assert.equal(error.retryable, false);
      assert.match(error.message, /pod_status/);
      return true;
    });
  });
});
