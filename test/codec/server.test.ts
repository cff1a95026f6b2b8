// The codec server over a real socket: Temporal's JSON payload protocol both ways, a
// token required in either of its two forms, browsers from another origin refused before
// anything is read, and loopback as the default interface.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { createCodecServer } from '../../src/codec/server.js';
import type { CodecServer } from '../../src/codec/server.js';
import { EncryptionCodec } from '../../src/codec/encryption-codec.js';
import { generateKey } from '../../src/codec/keys.js';

const TOKEN = 'codec-test-token-0123456789';
const UI = 'http://localhost:8233';

describe('codec server', () => {
  let server: CodecServer;
  const codec = new EncryptionCodec([generateKey('k1')]);
  before(async () => {
    server = await createCodecServer({ codec, token: TOKEN, allowedOrigins: [UI] });
  });
  after(() => server.close());

  const plainJson = () => {
    const payload = defaultPayloadConverter.toPayload({ text: 'echo secret-text' });
    return { metadata: { encoding: Buffer.from(payload.metadata!.encoding!).toString('base64') }, data: Buffer.from(payload.data!).toString('base64') };
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, body: JSON.stringify(body) });

  test('binds loopback by default', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('encode then decode round-trips in the JSON payload format, with the bearer token or the token path', async () => {
    const encoded = await post('/encode', { payloads: [plainJson()] }, { authorization: `Bearer ${TOKEN}` });
    assert.equal(encoded.status, 200);
    const { payloads } = (await encoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    assert.equal(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString(), 'binary/encrypted');
    assert.ok(!Buffer.from(payloads[0]!.data, 'base64').toString().includes('secret-text'));
    const decoded = await fetch(`${server.tokenUrl}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', origin: UI }, body: JSON.stringify({ payloads }) });
    assert.equal(decoded.status, 200);
    assert.equal(decoded.headers.get('access-control-allow-origin'), UI);
    assert.deepEqual(((await decoded.json()) as { payloads: unknown[] }).payloads, [plainJson()]);
  });

  test('an empty payload list, which proto JSON writes as {} (the CLI sends it), decodes to an empty list', async () => {
    for (const path of ['/decode', '/encode']) {
      const answer = await post(path, {}, { authorization: `Bearer ${TOKEN}` });
      assert.equal(answer.status, 200);
      assert.deepEqual(await answer.json(), { payloads: [] });
    }
  });

  test('401 without a token or with a wrong one, on both endpoints and both forms', async () => {
    for (const path of ['/decode', '/encode']) {
      const none = await post(path, { payloads: [] });
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await post(path, { payloads: [] }, { authorization: 'Bearer wrong-token-wrong-token' })).status, 401);
      assert.equal((await post(`/wrong-token-wrong-token${path}`, { payloads: [] })).status, 401);
    }
  });

  test('another origin is refused (403, no CORS grant), preflight and request alike, even with the token', async () => {
    const evil = 'http://evil.example';
    const preflight = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { origin: evil, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    const request = await post('/decode', { payloads: [] }, { authorization: `Bearer ${TOKEN}`, origin: evil });
    assert.equal(request.status, 403);
    assert.equal(request.headers.get('access-control-allow-origin'), null);
    assert.match(((await request.json()) as { detail: string }).detail, /origin http:\/\/evil\.example may not call/);

    const allowed = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { origin: UI, 'access-control-request-method': 'POST' } });
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), UI);
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /authorization.*content-type.*x-namespace/);
  });

  test('a payload under an unknown key is a 400 that names the key ID', async () => {
    const other = new EncryptionCodec([generateKey('retired-key')]);
    const [sealed] = await other.encode([defaultPayloadConverter.toPayload('x')]);
    const json = { metadata: Object.fromEntries(Object.entries(sealed!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(sealed!.data!).toString('base64') };
    const answer = await post('/decode', { payloads: [json] }, { authorization: `Bearer ${TOKEN}` });
    assert.equal(answer.status, 400);
    assert.match(((await answer.json()) as { detail: string }).detail, /key ID "retired-key"/);
  });
});
