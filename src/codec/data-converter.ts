// Which payload codec a process uses, from configuration, and the data converter that
// carries it. Every client and worker the project builds takes its data converter from
// here, so none of them can write a payload in the clear by forgetting the codec.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config.js';
import { EncryptionCodec } from './encryption-codec.js';
import { EncryptionKeyError, ensureKeyFile, readKeyFile } from './keys.js';
import type { KeyRing } from './keys.js';

export const keyFileOf = (config: Pick<Config, 'DATA_DIR'>) => path.join(config.DATA_DIR, 'encryption.keys');

type KeyConfig = Pick<Config, 'PAYLOAD_ENCRYPTION' | 'ENCRYPTION_KEYS' | 'ENCRYPTION_KEYS_FILE' | 'TEMPORAL_ADDRESS' | 'DATA_DIR'>;

/**
 * The configured keys: ENCRYPTION_KEYS, else ENCRYPTION_KEYS_FILE, else — only for the
 * embedded server — the data folder's key file, made the first time. Against a shared
 * server (TEMPORAL_ADDRESS) a key made up here would lock every other worker out of this
 * one's payloads, so there a missing key is an error instead.
 */
export async function keysFrom(config: KeyConfig): Promise<KeyRing> {
  if (config.ENCRYPTION_KEYS && config.ENCRYPTION_KEYS_FILE) {
    throw new EncryptionKeyError('both ENCRYPTION_KEYS and ENCRYPTION_KEYS_FILE are set: set one');
  }
  if (config.ENCRYPTION_KEYS) return config.ENCRYPTION_KEYS;
  if (config.ENCRYPTION_KEYS_FILE) return readKeyFile(config.ENCRYPTION_KEYS_FILE);
  if (config.TEMPORAL_ADDRESS) {
    throw new EncryptionKeyError(
      'TEMPORAL_ADDRESS names a Temporal server shared with other workers, and no encryption key is configured: ' +
        'set ENCRYPTION_KEYS or ENCRYPTION_KEYS_FILE to the keys every worker and client of that server uses, or PAYLOAD_ENCRYPTION=off',
    );
  }
  return ensureKeyFile(keyFileOf(config));
}

/** The codec configuration asks for: undefined only with PAYLOAD_ENCRYPTION=off. */
export async function payloadCodecFrom(config: KeyConfig): Promise<EncryptionCodec | undefined> {
  if (config.PAYLOAD_ENCRYPTION === 'off') return undefined;
  return new EncryptionCodec(await keysFrom(config));
}

/**
 * The failure converter module (failure-converter.ts). A prebuilt workflow bundle must be
 * made with it too — `bundleWorkflowCode({ workflowsPath, failureConverterPath: FAILURE_CONVERTER_PATH })` —
 * since the workflow sandbox converts the failures it raises with the converter bundled in it.
 */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.ts', import.meta.url));

/**
 * The data converter for clients, workers and replayers: with a codec, every payload is
 * encrypted and failure messages and stack traces travel inside payloads, encrypted too.
 */
export function dataConverterWith(codec: EncryptionCodec | undefined): DataConverter {
  return codec ? { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH } : {};
}
