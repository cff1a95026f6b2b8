// The test key (test/fixtures/encryption.keys, not a secret) and the codec built from it:
// every client, worker and replayer of the tests, and the recorded replay fixtures, use
// it, so the tests run encrypted as production does. `npm test` hands the same file to
// the processes tests spawn (CLI, worker) in ENCRYPTION_KEYS_FILE.
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { dataConverterWith } from '../../src/codec/data-converter.js';
import { EncryptionCodec } from '../../src/codec/encryption-codec.js';
import { readKeyFile } from '../../src/codec/keys.js';
import { projectRoot } from '../../src/temporal/server.js';

export const TEST_KEY_FILE = path.join(projectRoot, 'test', 'fixtures', 'encryption.keys');

let codec: Promise<EncryptionCodec> | undefined;

export function testCodec(): Promise<EncryptionCodec> {
  codec ??= readKeyFile(TEST_KEY_FILE).then((keys) => new EncryptionCodec(keys));
  return codec;
}

export async function testDataConverter(): Promise<DataConverter> {
  return dataConverterWith(await testCodec());
}
