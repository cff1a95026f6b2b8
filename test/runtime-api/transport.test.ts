// Failures without a usable response (timeouts, refused connections, aborts) and the
// error family's contract with Temporal (class names, retryability).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AgentServerClient,
  BadRequestError,
  InvalidResponseError,
  NON_RETRYABLE_ERROR_TYPES,
  NetworkError,
  NotFoundError,
  RUNTIME_ERROR_TYPES,
  RateLimitedError,
  RequestTimeoutError,
  RuntimeApiClient,
  RuntimeDisconnectedError,
  RuntimeRestartedError,
  RuntimePausedError,
  ServerError,
  UnauthorizedError,
  parseRetryAfter,
} from '../../src/runtime-api/index.js';
import { startScriptedServer } from '../support/scripted-server.js';
import type { ScriptedServer } from '../support/scripted-server.js';

let server: ScriptedServer;
let api: RuntimeApiClient;
let agent: AgentServerClient;

before(async () => {
  server = await startScriptedServer();
  api = new RuntimeApiClient({ baseUrl: server.url, apiKey: 'k', timeoutMs: 200 });
  agent = new AgentServerClient({ baseUrl: server.url, timeoutMs: 200 });
});
after(async () => {
  await Promise.all([api.close(), agent.close()]);
  await server.close();
});

describe('timeouts', () => {
  test('no headers within the timeout → RequestTimeoutError', async () => {
    server.script('GET', '/list', { delayMs: 3_000, body: { runtimes: [] } });
    const started = Date.now();
    await assert.rejects(api.list(), (error: unknown) => {
      assert.ok(error instanceof RequestTimeoutError, String(error));
      assert.equal(error.label, 'runtime-api.list');
      assert.equal(error.status, undefined);
      assert.equal(error.retryable, true);
      assert.equal((error.cause as { code?: string }).code, 'UND_ERR_HEADERS_TIMEOUT');
      return true;
    });
    assert.ok(Date.now() - started < 2_000, 'the timeout, not the server, ended the call');
  });

  test('headers but a stalled body → RequestTimeoutError', async () => {
    server.script('GET', '/health', { bodyDelayMs: 3_000, body: { status: 'ok' } });
    await assert.rejects(agent.health(), (error: unknown) => {
      assert.ok(error instanceof RequestTimeoutError, String(error));
      assert.equal((error.cause as { code?: string }).code, 'UND_ERR_BODY_TIMEOUT');
      return true;
    });
  });
});

describe('closing', () => {
  test('a client closing with a request in flight cuts it after the grace time instead of waiting out its timeout', async () => {
    // The server answers after 60 s and the client would wait 600 s: a closing worker must not.
    server.script('GET', '/health', { delayMs: 60_000, body: { status: 'ok' } });
    const patient = new AgentServerClient({ baseUrl: server.url, timeoutMs: 600_000 });
    const inFlight = patient.health();
    inFlight.catch(() => {}); // its rejection is checked below, after close
    await new Promise((resolve) => setTimeout(resolve, 200)); // the request is on the wire
    const started = Date.now();
    await patient.close();
    const closedInMs = Date.now() - started;
    await assert.rejects(inFlight, (error: unknown) => error instanceof NetworkError && /destroyed/.test(error.message));
    // Grace is 5 s; 60 s is the server's answer. Anything well under it shows close did not wait.
    assert.ok(closedInMs < 40_000, `close took ${closedInMs} ms`);
  });
});

describe('network failures', () => {
  test('connection refused → NetworkError (retryable)', async () => {
    const gone = await startScriptedServer();
    await gone.close();
    const client = new AgentServerClient({ baseUrl: gone.url });
    try {
      await assert.rejects(client.alive(), (error: unknown) => {
        assert.ok(error instanceof NetworkError, String(error));
        assert.equal(error.label, 'agent.alive');
        assert.equal(error.retryable, true);
        assert.equal((error.cause as { code?: string }).code, 'ECONNREFUSED');
        return true;
      });
    } finally {
      await client.close();
    }
  });
});

describe('cancellation', () => {
  test('aborting a pending call rejects with the AbortError, not a NetworkError', async () => {
    server.script('GET', '/sessions/slow', { delayMs: 150, body: {} });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    await assert.rejects(api.getSession('slow', { signal: controller.signal }), (error: unknown) => {
      assert.ok(!(error instanceof NetworkError));
      assert.equal((error as Error).name, 'AbortError');
      return true;
    });
  });

  test('the signal’s own reason is rethrown as is (Temporal passes a CancelledFailure)', async () => {
    server.script('GET', '/alive', { delayMs: 150 });
    const reason = new Error('activity cancelled');
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 30);
    await assert.rejects(agent.alive({ signal: controller.signal }), (error: unknown) => error === reason);
  });

  test('an already aborted signal sends nothing', async () => {
    const count = server.requests.length;
    await assert.rejects(api.stop('rt-1', { signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(server.requests.length, count);
  });
});

describe('error family', () => {
  const classes = [
    NotFoundError,
    UnauthorizedError,
    RuntimePausedError,
    RuntimeDisconnectedError,
    RuntimeRestartedError,
    RateLimitedError,
    InvalidResponseError,
    RequestTimeoutError,
    NetworkError,
    BadRequestError,
    ServerError,
  ];

  test('RUNTIME_ERROR_TYPES names every class as Temporal records it (constructor name)', () => {
    assert.deepEqual(Object.values(RUNTIME_ERROR_TYPES).sort(), classes.map((type) => type.name).sort());
    for (const type of classes) {
      const error = new type('m', { label: 'x' }, undefined);
      assert.equal(error.name, type.name);
      assert.equal(error.constructor.name, RUNTIME_ERROR_TYPES[type.name as keyof typeof RUNTIME_ERROR_TYPES]);
    }
  });

  test('NON_RETRYABLE_ERROR_TYPES lists exactly the non-retryable classes', () => {
    const nonRetryable = classes.filter((type) => !new type('m', { label: 'x' }, undefined).retryable).map((type) => type.name);
    assert.deepEqual([...NON_RETRYABLE_ERROR_TYPES].sort(), nonRetryable.sort());
    assert.deepEqual(nonRetryable.sort(), ['BadRequestError', 'InvalidResponseError', 'NotFoundError', 'RuntimeRestartedError', 'UnauthorizedError']);
  });

  test('parseRetryAfter reads seconds and HTTP dates, ignores garbage', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});
