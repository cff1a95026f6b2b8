// The payload codec on its own: what an encrypted payload looks like, rotation, unknown
// and damaged keys, key parsing errors that never repeat key bytes, and the size growth
// the message limits account for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { loadConfig } from '../../src/config.js';
import { ENCRYPTED_ENCODING, EncryptionCodec, METADATA_KEY_ID, PayloadDecryptionError, UnknownEncryptionKeyError, encryptedPayloadBytes } from '../../src/codec/encryption-codec.js';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { keyFileOf, keysFrom, payloadCodecFrom } from '../../src/codec/data-converter.js';
import { EncryptionKeyError, formatKeys, generateKey, parseKeys } from '../../src/codec/keys.js';

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
const secret = { text: 'my password is hunter2' };

describe('payload codec (AES-256-GCM)', () => {
  const k1 = generateKey('k1');
  const k2 = generateKey('k2');

  test('hides the whole payload, metadata too, under binary/encrypted and the key ID; a fresh IV each time', async () => {
    const codec = new EncryptionCodec([k1]);
    const plain = defaultPayloadConverter.toPayload(secret);
    const [a] = await codec.encode([plain]);
    const [b] = await codec.encode([plain]);
    assert.equal(text(a!.metadata?.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(a!.metadata?.[METADATA_KEY_ID]), 'k1');
    assert.deepEqual(Object.keys(a!.metadata ?? {}).sort(), ['encoding', METADATA_KEY_ID].sort());
    for (const form of ['utf8', 'latin1'] as const) assert.ok(!Buffer.from(a!.data!).toString(form).includes('hunter2'));
    assert.ok(!Buffer.from(a!.data!).toString('utf8').includes('json/plain'), 'the inner encoding is encrypted too');
    assert.notDeepEqual(Buffer.from(a!.data!).subarray(0, 12), Buffer.from(b!.data!).subarray(0, 12), 'fresh IV');
    const [back] = await codec.decode([a!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(back!), secret);
  });

  test('rotation: the first key encrypts, every key decrypts, so old payloads still read', async () => {
    const before = new EncryptionCodec([k1]);
    const after = new EncryptionCodec([k2, k1]);
    const [old] = await before.encode([defaultPayloadConverter.toPayload(secret)]);
    const [fresh] = await after.encode([defaultPayloadConverter.toPayload(secret)]);
    assert.equal(text(fresh!.metadata?.[METADATA_KEY_ID]), 'k2');
    assert.deepEqual(defaultPayloadConverter.fromPayload((await after.decode([old!]))[0]!), secret);
    await assert.rejects(before.decode([fresh!]), (error: unknown) => {
      assert.ok(error instanceof UnknownEncryptionKeyError);
      assert.equal(error.keyId, 'k2');
      assert.match(error.message, /key ID "k2", which is not among the configured keys \("k1"\)/);
      return true;
    });
  });

  test('a payload relabelled with another key ID, or altered, fails authentication; unencrypted payloads pass through', async () => {
    const codec = new EncryptionCodec([k1, k2]);
    const [sealed] = await codec.encode([defaultPayloadConverter.toPayload(secret)]);
    const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, [METADATA_KEY_ID]: Buffer.from('k2') } };
    await assert.rejects(codec.decode([relabelled]), PayloadDecryptionError);
    const flipped = Buffer.from(sealed!.data!);
    flipped[20] = (flipped[20] as number) ^ 1;
    await assert.rejects(codec.decode([{ ...sealed!, data: flipped }]), /key ID "k1"\): authentication failed/);
    const clear = defaultPayloadConverter.toPayload('written before encryption was on');
    assert.deepEqual(await codec.decode([clear]), [clear]);
  });

  test('growth is what encryptedPayloadBytes says, for small and large payloads', async () => {
    const codec = new EncryptionCodec([generateKey('x'.repeat(64))]);
    for (const size of [0, 100, 200_000, 1_048_576]) {
      const plain = defaultPayloadConverter.toPayload('a'.repeat(size));
      const [sealed] = await codec.encode([plain]);
      const { default: proto } = await import('@temporalio/proto');
      const wire = proto.temporal.api.common.v1.Payload.encode(sealed!).finish().length;
      assert.equal(wire, encryptedPayloadBytes(plain.data!.length), `payload of ${plain.data!.length} bytes`);
    }
  });

  test('keys: several, first encrypts; bad ones are refused naming the position and ID, never the key text', () => {
    const ring = parseKeys(`${formatKeys([k2, k1]).replace('\n', ',')}`, 'ENCRYPTION_KEYS');
    assert.deepEqual(ring.map((k) => k.id), ['k2', 'k1']);
    const short = `k3:${Buffer.alloc(16, 7).toString('base64')}`;
    assert.throws(() => parseKeys(short, 'ENCRYPTION_KEYS'), (error: unknown) => {
      assert.ok(error instanceof EncryptionKeyError);
      assert.match(error.message, /key 1 \(ID "k3"\): the key must be base64 of exactly 32 bytes, not 16/);
      assert.ok(!error.message.includes(short.slice(3)));
      return true;
    });
    assert.throws(() => parseKeys(`${formatKeys([k1])},${formatKeys([k1])}`, 'x'), /"k1" appears twice/);
    const leaked = formatKeys([k1]).slice(3, 20);
    assert.throws(
      () => loadConfig({ ENCRYPTION_KEYS: `${formatKeys([k1])}!` }),
      (error: Error) => /ENCRYPTION_KEYS=\(secret, not shown\)/.test(error.message) && !error.message.includes(leaked),
    );
  });

  test('where keys come from: the embedded default makes one key file and reuses it; a shared server needs keys configured; off only explicitly', async (t) => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'dc-keys-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const embedded = loadConfig({ DATA_DIR: dataDir });
    const first = await keysFrom(embedded);
    assert.equal(((await stat(keyFileOf(embedded))).mode & 0o777).toString(8), '600');
    assert.deepEqual(await keysFrom(embedded), first, 'the next process reads the same key');
    await assert.rejects(keysFrom(loadConfig({ DATA_DIR: dataDir, TEMPORAL_ADDRESS: 'temporal:7233' })), /TEMPORAL_ADDRESS names a Temporal server shared.*ENCRYPTION_KEYS/);
    const configured = loadConfig({ DATA_DIR: dataDir, TEMPORAL_ADDRESS: 'temporal:7233', ENCRYPTION_KEYS: formatKeys([k2, k1]).replace('\n', ',') });
    assert.equal((await payloadCodecFrom(configured))?.currentKeyId, 'k2');
    await assert.rejects(keysFrom({ ...configured, ENCRYPTION_KEYS_FILE: '/x' }), /both ENCRYPTION_KEYS and ENCRYPTION_KEYS_FILE/);
    assert.equal(await payloadCodecFrom(loadConfig({ DATA_DIR: dataDir, PAYLOAD_ENCRYPTION: 'off' })), undefined);
    assert.equal(loadConfig({}).PAYLOAD_ENCRYPTION, 'on', 'on unless turned off');
  });
});
