// Encryption keys for the payload codec, written `id:base64` (32 bytes of AES-256 key),
// several separated by commas or newlines. The first key encrypts every new payload;
// all of them decrypt, so a rotation puts the new key first and keeps the old ones until
// no history that needs them is left. Errors name key IDs and positions, never key bytes.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const KEY_BYTES = 32;
export const KEY_FORM = `id:base64, the id 1-64 of [A-Za-z0-9._-] and the base64 ${KEY_BYTES} bytes (e.g. \`openssl rand -base64 32\`); several separated by commas or newlines, the first encrypts`;

export interface EncryptionKey {
  readonly id: string;
  readonly key: Buffer;
}

/** A non-empty list; `[0]` encrypts. */
export type KeyRing = readonly [EncryptionKey, ...EncryptionKey[]];

export class EncryptionKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EncryptionKeyError';
  }
}

/** Parses `id:base64[,id:base64…]`; `source` names where the text came from in errors. */
export function parseKeys(text: string, source: string): KeyRing {
  const entries = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const keys = entries.map((entry, index) => parseKey(entry, `${source}, key ${index + 1}`));
  const [first, ...rest] = keys;
  if (!first) throw new EncryptionKeyError(`${source} holds no key; expected ${KEY_FORM}`);
  const ids = new Set<string>();
  for (const { id } of keys) {
    if (ids.has(id)) throw new EncryptionKeyError(`${source}: key ID "${id}" appears twice; each key needs its own ID`);
    ids.add(id);
  }
  return [first, ...rest];
}

function parseKey(entry: string, where: string): EncryptionKey {
  const colon = entry.indexOf(':');
  const id = colon < 0 ? '' : entry.slice(0, colon);
  if (!KEY_ID_PATTERN.test(id)) throw new EncryptionKeyError(`${where}: expected ${KEY_FORM}`);
  const encoded = entry.slice(colon + 1);
  const key = Buffer.from(encoded, 'base64');
  // Buffer.from skips characters that are not base64; a re-encoding that differs means the text was not clean base64.
  const clean = /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) && key.toString('base64').replace(/=+$/, '') === encoded.replace(/=+$/, '');
  if (!clean || key.length !== KEY_BYTES) {
    throw new EncryptionKeyError(`${where} (ID "${id}"): the key must be base64 of exactly ${KEY_BYTES} bytes${clean ? `, not ${key.length}` : ''}`);
  }
  return { id, key };
}

export async function readKeyFile(file: string): Promise<KeyRing> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new EncryptionKeyError(`cannot read the encryption key file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  return parseKeys(text, `key file ${file}`);
}

export function generateKey(id = `k-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`): EncryptionKey {
  return { id, key: randomBytes(KEY_BYTES) };
}

export const formatKeys = (keys: readonly EncryptionKey[]): string => keys.map(({ id, key }) => `${id}:${key.toString('base64')}`).join('\n');

/**
 * The key file in the data folder, made with one fresh key the first time (mode 0600), as
 * the Runtime API key is: `npm start`, the CLI and `npm run worker` beside it share it.
 * `flag: 'wx'` makes a second process that races the first read the winner's file.
 */
export async function ensureKeyFile(file: string): Promise<KeyRing> {
  try {
    return await readKeyFile(file);
  } catch (error) {
    if ((error as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const header = '# Payload encryption keys (id:base64). The first encrypts, all decrypt: to rotate, put a new key first.\n';
  await writeFile(file, `${header}${formatKeys([generateKey()])}\n`, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return readKeyFile(file);
}
