// The shell agent as one JavaScript file: what an isolated sandbox is shown of our code. Run
// from source it would need the project folder (src/, node_modules/) mounted inside, and
// agent code could read it all. Bundled, it is a single read-only file, and it starts
// faster too (no TypeScript to transpile at each start).
import { createHash } from 'node:crypto';
import { chmod, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const SANDBOX_MAIN = fileURLToPath(new URL('../sandbox/main.ts', import.meta.url));

// A bundle in ESM form has no `require`; the few CommonJS dependencies that call it for
// Node's own modules get one.
const REQUIRE_SHIM = "import { createRequire as __dcCreateRequire } from 'node:module'; const require = __dcCreateRequire(import.meta.url);";

const built = new Map<string, Promise<string>>();

/**
 * The bundle's path in `dir`, built once per process. Its name is its content's hash, so a
 * changed agent gets a new file and a sandbox still running never sees its file replaced.
 */
export function shellAgentBundle(dir: string): Promise<string> {
  let file = built.get(dir);
  if (!file) {
    file = buildInto(dir);
    built.set(dir, file);
    file.catch(() => built.delete(dir)); // a failed build is tried again next time
  }
  return file;
}

async function buildInto(dir: string): Promise<string> {
  const result = await build({
    entryPoints: [SANDBOX_MAIN],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    banner: { js: REQUIRE_SHIM },
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const file = path.join(dir, `shell-agent-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (await stat(file).catch(() => undefined)) return file;
  // Readable by every sandbox user; written aside and renamed, so no sandbox sees half a file.
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, code, { mode: 0o644 });
  await rename(partial, file);
  return file;
}
