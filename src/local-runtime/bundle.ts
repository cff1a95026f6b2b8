// Our programs that run inside a sandbox (the shell agent, the socket relay), each as one
// JavaScript file. An isolated sandbox is shown that file, read-only: run from source, it
// would need the project folder (src/, node_modules/) mounted inside, and agent code could
// read it all. A bundle also starts faster (no TypeScript to transpile at each start).
import { createHash } from 'node:crypto';
import { chmod, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

// A bundle in ESM form has no `require`; the few CommonJS dependencies that call it for
// Node's own modules get one.
const REQUIRE_SHIM = "import { createRequire as __dcCreateRequire } from 'node:module'; const require = __dcCreateRequire(import.meta.url);";

const built = new Map<string, Promise<string>>();

/**
 * The bundle of `entry` (a .ts file) in `dir`, built once per process. Its name is `name`
 * and its content's hash, so a changed program gets a new file and a sandbox still running
 * never sees its file replaced.
 */
export function bundle(entry: string, name: string, dir: string): Promise<string> {
  const key = `${entry}\0${dir}`;
  let file = built.get(key);
  if (!file) {
    file = buildInto(entry, name, dir);
    built.set(key, file);
    file.catch(() => built.delete(key)); // a failed build is tried again next time
  }
  return file;
}

async function buildInto(entry: string, name: string, dir: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    banner: { js: REQUIRE_SHIM },
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const file = path.join(dir, `${name}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (await stat(file).catch(() => undefined)) return file;
  // Readable by every sandbox user; written aside and renamed, so no sandbox sees half a file.
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, code, { mode: 0o644 });
  await rename(partial, file);
  return file;
}
