// Bytes at rest sealed by the payload codecs (encryption-codec.ts: AES-256-GCM, the key ID
// as associated data), so a file the workers keep is encrypted with the same key ring as
// history, and read back by any process holding it, after a rotation too. The bytes travel
// as one payload through the codecs, stored as that payload's protobuf encoding.
import { METADATA_ENCODING_KEY } from '@temporalio/common';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

// @temporalio/proto is CommonJS: its namespace comes through the default export.
const ProtoPayload = proto.temporal.api.common.v1.Payload;
const PLAIN_ENCODING = Buffer.from('binary/plain', 'utf8');

export async function sealBytes(codecs: readonly PayloadCodec[], bytes: Uint8Array): Promise<Uint8Array> {
  let payloads: Payload[] = [{ metadata: { [METADATA_ENCODING_KEY]: PLAIN_ENCODING }, data: bytes }];
  for (const codec of codecs) payloads = await codec.encode(payloads);
  return ProtoPayload.encode(payloads[0] as Payload).finish();
}

/** Throws the codec's own error (an unknown key ID, a damaged file) when the bytes cannot be opened. */
export async function openBytes(codecs: readonly PayloadCodec[], sealed: Uint8Array): Promise<Buffer> {
  const stored = ProtoPayload.decode(sealed);
  let payloads: Payload[] = [{ metadata: stored.metadata ?? {}, data: stored.data ?? new Uint8Array() }];
  // In the reverse order of encoding, as the SDK decodes.
  for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
  return Buffer.from(payloads[0]?.data ?? new Uint8Array());
}
