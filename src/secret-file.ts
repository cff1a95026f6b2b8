// A secret kept in the data folder (mode 0600) the first time a process needs one, so that
// `npm start`, the CLI in another terminal and the next `npm start` share it: the Runtime
// API key, the codec server's token. `flag: 'wx'` lets two processes race safely: the
// loser reads the winner's file.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function readOrCreateSecret(file: string, bytes = 24): Promise<string> {
  const existing = await readFile(file, 'utf8').then((text) => text.trim(), () => undefined);
  if (existing) return existing;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${randomBytes(bytes).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return (await readFile(file, 'utf8')).trim();
}
