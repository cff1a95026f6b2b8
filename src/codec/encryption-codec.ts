// The payload codec: AES-256-GCM over the whole serialized payload (its metadata too, so
// not even the encoding of a value shows), a fresh 12-byte IV per payload, and the key ID
// in the outer metadata so that any key of the ring can decrypt what it encrypted. The key
// ID is also the GCM associated data: a payload relabelled with another ID fails to
// decrypt instead of being read with the wrong key. Payloads that are not ours (written
// before encryption was turned on, or by another codec) pass through decode unchanged.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY } from '@temporalio/common';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { EncryptionKey, KeyRing } from './keys.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

// @temporalio/proto is CommonJS: its namespace comes through the default export.
const ProtoPayload = proto.temporal.api.common.v1.Payload;
const utf8 = (text: string) => Buffer.from(text, 'utf8');

/** A payload encrypted with a key this process does not hold. */
export class UnknownEncryptionKeyError extends Error {
  constructor(
    readonly keyId: string,
    readonly knownKeyIds: readonly string[],
  ) {
    super(
      `payload was encrypted with key ID "${keyId}", which is not among the configured keys (${knownKeyIds.map((id) => `"${id}"`).join(', ')}); ` +
        'add that key to ENCRYPTION_KEYS or ENCRYPTION_KEYS_FILE (after the current first key) to read it',
    );
    this.name = 'UnknownEncryptionKeyError';
  }
}

/** A payload that is marked encrypted but cannot be decrypted: damaged, truncated, or its key ID altered. */
export class PayloadDecryptionError extends Error {
  constructor(
    readonly keyId: string | undefined,
    reason: string,
  ) {
    super(`cannot decrypt payload${keyId === undefined ? '' : ` (key ID "${keyId}")`}: ${reason}`);
    this.name = 'PayloadDecryptionError';
  }
}

export class EncryptionCodec implements PayloadCodec {
  readonly #current: EncryptionKey;
  readonly #byId: ReadonlyMap<string, Buffer>;

  constructor(keys: KeyRing) {
    this.#current = keys[0];
    this.#byId = new Map(keys.map(({ id, key }) => [id, key]));
  }

  /** The ID new payloads are encrypted with. */
  get currentKeyId(): string {
    return this.#current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.#encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.#decrypt(payload));
  }

  #encrypt(payload: Payload): Payload {
    const { id, key } = this.#current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(utf8(id));
    const plain = ProtoPayload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING), [METADATA_KEY_ID]: utf8(id) }, data: sealed };
  }

  #decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || Buffer.from(encoding).toString('utf8') !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[METADATA_KEY_ID];
    if (!idBytes) throw new PayloadDecryptionError(undefined, `it carries no ${METADATA_KEY_ID}`);
    const id = Buffer.from(idBytes).toString('utf8');
    const key = this.#byId.get(id);
    if (!key) throw new UnknownEncryptionKeyError(id, [...this.#byId.keys()]);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(id, `${data.length} bytes is too short for an encrypted payload`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(utf8(id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(id, 'authentication failed (the payload was altered, or that ID names a different key here)');
    }
    const inner = ProtoPayload.decode(plain);
    return { metadata: inner.metadata ?? {}, data: inner.data ?? new Uint8Array() };
  }
}

/**
 * Bytes encryption adds to a payload whose own metadata is `encoding: json/plain` and whose
 * data is `dataBytes` long: the inner payload's protobuf framing, IV and tag, and the outer
 * metadata with the key ID. Used to keep message size limits honest (validation.ts).
 */
export function encryptedPayloadBytes(dataBytes: number, keyIdBytes = 64): number {
  const varint = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4);
  const entry = (k: number, v: number) => 1 + varint(k + v + 4) + 2 + k + 2 + v; // map entry: tag, len, key field, value field
  const inner = entry('encoding'.length, 'json/plain'.length) + 1 + varint(dataBytes) + dataBytes;
  const sealed = IV_BYTES + inner + TAG_BYTES;
  return entry('encoding'.length, ENCRYPTED_ENCODING.length) + entry(METADATA_KEY_ID.length, keyIdBytes) + 1 + varint(sealed) + sealed;
}
