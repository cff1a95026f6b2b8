// No secret in any error text: servers that echo requests (FastAPI's 422 puts the whole
// body in `input`) or quote keys in their errors must not carry a key into an error's
// message, body excerpt, cause chain or stack, nor into what the workflow records.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toActivityFailure } from '../../src/activities/failures.js';
import { AgentServerClient, RuntimeApiClient, RuntimeHttpError } from '../../src/runtime-api/index.js';
import { REDACTED, redact, registerSecret } from '../../src/runtime-api/redaction.js';
import { describeFailure } from '../../src/workflows/status.js';
import { startScriptedServer } from '../support/scripted-server.js';
import type { ScriptedServer } from '../support/scripted-server.js';

const LLM_KEY = 'sk-live-4f9a1c2e7b3d5f60a8c9e1d2';
const SESSION_KEY = 'sess-9b8c7d6e5f4a3b2c1d0e';
const RUNTIME_API_KEY = 'rtapi-0a1b2c3d4e5f6a7b8c9d';
const GITHUB_TOKEN = 'ghp_1234567890abcdefghij';
const REGISTERED = 'registered-secret-7e6d5c4b3a29';
const SECRETS = [LLM_KEY, SESSION_KEY, RUNTIME_API_KEY, GITHUB_TOKEN, REGISTERED];

/** Every text an error exposes: message, excerpt, stack, and each cause's String() and stack. */
function errorTexts(error: unknown): string[] {
  const texts: string[] = [];
  for (let current = error; current !== undefined && current !== null; current = (current as { cause?: unknown }).cause) {
    texts.push(String(current));
    if (current instanceof Error) texts.push(current.message, current.stack ?? '');
    if (current instanceof RuntimeHttpError) texts.push(current.bodyExcerpt ?? '');
    if (!(current instanceof Error)) break;
  }
  return texts;
}

/** No secret, nor any 8-character piece of one (a prefix cut off by truncation), in any text. */
function assertNoSecret(texts: readonly string[]): void {
  for (const text of texts) {
    for (const secret of SECRETS) {
      for (let i = 0; i + 8 <= secret.length; i++) {
        assert.ok(!text.includes(secret.slice(i, i + 8)), `a piece of ${secret} in: ${text.slice(0, 400)}`);
      }
    }
  }
}

const fastApi422 = (body: string) => ({
  status: 422,
  body: { detail: [{ type: 'missing', loc: ['body', 'workspace', 'kind'], msg: 'Field required', input: JSON.parse(body) as unknown }] },
});

describe('error texts carry no secret (0 key characters in message, excerpt, causes, stack, failure record)', () => {
  let server: ScriptedServer;
  let agent: AgentServerClient;
  let runtimeApi: RuntimeApiClient;
  before(async () => {
    server = await startScriptedServer();
    agent = new AgentServerClient({ baseUrl: server.url, sessionApiKey: SESSION_KEY, timeoutMs: 5_000 });
    runtimeApi = new RuntimeApiClient({ baseUrl: server.url, apiKey: RUNTIME_API_KEY, timeoutMs: 5_000 });
    registerSecret(REGISTERED);
  });
  after(async () => {
    await Promise.all([agent.close(), runtimeApi.close()]);
    await server.close();
  });

  test('an agent server echoing the request body in a FastAPI 422', async () => {
    server.script('POST', '/api/conversations', (request) => fastApi422(request.body));
    const request = {
      agent: { kind: 'Agent', llm: { model: 'openai/gpt-4o', api_key: LLM_KEY, usage_id: 'agent' } },
      workspace: { kind: 'LocalWorkspace', working_dir: '/workspace' },
      secrets: { GITHUB_TOKEN },
    };
    const error = await agent.createConversation(request).then(
      () => assert.fail('expected a 422'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof RuntimeHttpError, String(error));
    assert.equal(error.status, 422);
    assert.ok(server.requests.at(-1)?.body.includes(LLM_KEY), 'the key was sent, and echoed back');
    assert.match(error.message, /Field required/, 'the useful part of the answer stays');
    assert.ok(error.message.includes(REDACTED));
    assertNoSecret(errorTexts(error));

    // What the workflow records: the activity failure and describeFailure's 500-character cut.
    const failure = toActivityFailure(error);
    assertNoSecret(errorTexts(failure));
    assertNoSecret([JSON.stringify(describeFailure(failure))]);
  });

  test('a key at the excerpt cut is redacted before the cut, not cut in half', async () => {
    server.script('POST', '/api/conversations', (request) => ({
      status: 422,
      body: { detail: 'x'.repeat(262), input: JSON.parse(request.body) as unknown },
    }));
    const error = await agent
      .createConversation({ agent: { llm: { model: 'm', api_key: LLM_KEY } }, workspace: { kind: 'LocalWorkspace', working_dir: '/w' } })
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof RuntimeHttpError, String(error));
    assertNoSecret(errorTexts(error));
  });

  test('keys quoted in plain text, without JSON keys: session key, X-API-Key, registered secret', async () => {
    server.script('GET', '/api/conversations/c1', { status: 401, body: `session ${SESSION_KEY} is not valid here` });
    const unauthorized = await agent.getConversation('c1').catch((caught: unknown) => caught);
    assert.ok(unauthorized instanceof RuntimeHttpError && unauthorized.status === 401, String(unauthorized));
    assertNoSecret(errorTexts(unauthorized));

    server.script('GET', '/list', { status: 500, body: `Traceback: bad header X-API-Key ${RUNTIME_API_KEY}; token=${GITHUB_TOKEN}; ${REGISTERED}` });
    const serverError = await runtimeApi.list().catch((caught: unknown) => caught);
    assert.ok(serverError instanceof RuntimeHttpError && serverError.status === 500, String(serverError));
    assertNoSecret(errorTexts(serverError));
    assertNoSecret(errorTexts(toActivityFailure(serverError)));
  });

  test('a 2xx that is not JSON: the parser error quoting the body is scrubbed too', async () => {
    server.script('GET', '/sessions/s1', { status: 200, body: `session_api_key=${SESSION_KEY} ${REGISTERED}` });
    const error = await runtimeApi.getSession('s1').catch((caught: unknown) => caught);
    assert.ok(error instanceof RuntimeHttpError && error.name === 'InvalidResponseError', String(error));
    assertNoSecret(errorTexts(error));
  });

  test('redact() by name: api_key, apiKey, token, secret, authorization, password, session_api_key, X-Session-API-Key', () => {
    const text = [
      `api_key=${LLM_KEY}`,
      `{"apiKey": "${LLM_KEY}"}`,
      `token: ${GITHUB_TOKEN}`,
      `client_secret='${GITHUB_TOKEN}'`,
      `Authorization: Bearer ${SESSION_KEY}`,
      `password=${RUNTIME_API_KEY}`,
      `"session_api_key":"${SESSION_KEY}"`,
      `X-Session-API-Key: ${SESSION_KEY}`,
    ].join('\n');
    const scrubbed = redact(text);
    assertNoSecret([scrubbed]);
    assert.equal(scrubbed.split(REDACTED).length - 1, 8, scrubbed);
    assert.equal(redact('{"max_tokens": 4096, "idempotency_key": "msg-1"}'), '{"max_tokens":4096,"idempotency_key":"msg-1"}', 'counts and message IDs stay');
  });
});
