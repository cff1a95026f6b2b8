// What goes over the wire: the message limit is measured as the body actually sent, the
// largest allowed message fits the 1 MiB a runtime accepts and one byte more gets a
// clear 413, and malformed percent-encoding in a path is a 400, never a 500.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AgentServerClient, BadRequestError } from '../../src/runtime-api/index.js';
import { MESSAGE_MAX_BYTES_CEILING, RUNTIME_MAX_BODY_BYTES, jsonTextBytes, messageBodyBytes, validateMessage } from '../../src/workflows/validation.js';
import { startScriptedServer } from '../support/scripted-server.js';
import { startTestServer as startSandbox } from '../sandbox/support.js';
import { http, startRuntime, startTestServer, waitReady } from './support.js';

const userMessage = (text: string) => ({ role: 'user' as const, content: [{ type: 'text' as const, text }], run: true });

describe('message size as sent', () => {
  test('messageBodyBytes equals the bytes the agent-server client puts on the wire (0 bytes off, for 6 kinds of text)', async (t) => {
    const server = await startScriptedServer();
    const client = new AgentServerClient({ baseUrl: server.url, timeoutMs: 5_000 });
    t.after(async () => {
      await client.close();
      await server.close();
    });
    server.script('POST', '/api/conversations/c/events', { body: { success: true } });
    const texts = ['echo hi', '\u0001\u0002\u001f'.repeat(10), 'quote " backslash \\ tab \t newline \n', 'é ß 中文 🙂', 'lone \ud800 surrogate', '\u2028\u007f'];
    for (const text of texts) {
      await client.sendMessage('c', userMessage(text));
      const sent = server.requests.at(-1)?.body ?? '';
      assert.equal(messageBodyBytes(text), Buffer.byteLength(sent), `body of ${JSON.stringify(text)}`);
    }
  });

  test('262,144 bytes of control characters are 1,572,864 bytes as sent: refused with both numbers', () => {
    const text = '\u0001'.repeat(256 * 1024);
    assert.equal(jsonTextBytes(text), 6 * 256 * 1024);
    assert.throws(
      () => validateMessage({ messageId: 'm1', text }, 256 * 1024),
      (error: Error) => error.name === 'InvalidInputError' && /1572864 bytes as sent .*262144 bytes of plain UTF-8.*the limit is 262144 bytes/.test(error.message),
    );
    // A configured limit above what a runtime takes is held to the ceiling, and says why.
    assert.throws(
      () => validateMessage({ messageId: 'm2', text: 'a'.repeat(MESSAGE_MAX_BYTES_CEILING + 1) }, 2 * 1024 * 1024),
      (error: Error) => error.message.includes(`the limit is ${MESSAGE_MAX_BYTES_CEILING} bytes (a runtime accepts request bodies up to ${RUNTIME_MAX_BODY_BYTES} bytes`),
    );
  });
});

describe('the sandbox agent server behind the local Runtime API', () => {
  test(`a message at the ceiling (${MESSAGE_MAX_BYTES_CEILING} bytes, body exactly ${RUNTIME_MAX_BODY_BYTES}) is accepted; one byte more gets 413 naming both sizes`, async (t) => {
    const server = await startTestServer(t, { driver: 'inproc' });
    const runtime = await startRuntime(server, 'wire-limit');
    await waitReady(server, runtime.runtime_id);
    const client = new AgentServerClient({ baseUrl: runtime.url, sessionApiKey: runtime.session_api_key, timeoutMs: 30_000 });
    t.after(() => client.close());
    const created = await client.createConversation({ agent: { llm: { model: 'none' } }, workspace: { kind: 'LocalWorkspace', working_dir: 'wire' } });
    const conversationId = created.info.id;

    // `#` makes the shell agent's command a comment: nothing runs, the size is what counts.
    const atCeiling = `#${'a'.repeat(MESSAGE_MAX_BYTES_CEILING - 1)}`;
    validateMessage({ messageId: 'at-ceiling', text: atCeiling }, MESSAGE_MAX_BYTES_CEILING);
    assert.equal(messageBodyBytes(atCeiling), RUNTIME_MAX_BODY_BYTES);
    await client.sendMessage(conversationId, userMessage(atCeiling));

    await assert.rejects(client.sendMessage(conversationId, userMessage(`${atCeiling}a`)), (error: unknown) => {
      assert.ok(error instanceof BadRequestError, String(error));
      assert.equal(error.status, 413);
      assert.match(error.message, new RegExp(`request body of ${RUNTIME_MAX_BODY_BYTES + 1} bytes is over the limit of ${RUNTIME_MAX_BODY_BYTES} bytes`));
      return true;
    });
  });
});

describe('malformed percent-encoding in a path: 400 with a clear detail, never 500', () => {
  const malformed = ['%E0%A4%A', '%zz', '%'];

  test('the local Runtime API, its ingress and the sandbox behind it (0 answers of 500)', async (t) => {
    const server = await startTestServer(t, { driver: 'inproc' });
    for (const segment of malformed) {
      for (const path of [`/sessions/${segment}`, `/runtime/${segment}`]) {
        const reply = await server.call('GET', path);
        assert.equal(reply.status, 400, `${path}: ${JSON.stringify(reply.body)}`);
        assert.match(String(reply.body.detail), /malformed percent-encoding/);
      }
      // An unknown runtime is 404 whatever follows its ID.
      assert.equal((await server.call('GET', `/sandboxes/x/api/conversations/${segment}`)).status, 404);
    }
    const runtime = await startRuntime(server, 'bad-paths');
    await waitReady(server, runtime.runtime_id);
    for (const segment of malformed) {
      const reply = await http('GET', `${runtime.url}/api/conversations/${segment}`, undefined, { 'x-session-api-key': runtime.session_api_key });
      assert.equal(reply.status, 400, `through the ingress, ${segment}: ${JSON.stringify(reply.body)}`);
      assert.match(String(reply.body.detail), /malformed percent-encoding/);
    }
  });

  test('the sandbox agent server on its own (0 answers of 500)', async (t) => {
    const { api } = await startSandbox(t);
    for (const segment of malformed) {
      for (const [method, path] of [['GET', `/api/conversations/${segment}`], ['POST', `/api/conversations/${segment}/run`]] as const) {
        const reply = await api.call(method, path);
        assert.equal(reply.status, 400, `${method} ${path}: ${JSON.stringify(reply.body)}`);
        assert.match(String((reply.body as { detail: unknown }).detail), /malformed percent-encoding/);
      }
    }
  });
});
