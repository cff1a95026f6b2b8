// Finds real Python interpreters of at least a given version, searching a machine the way
// a person would: PATH (python3.14 … python3), pyenv's versions folder, then /usr/local/bin
// and /usr/bin. Version-manager shims (pyenv, asdf, mise) are never run: a pyenv shim can
// hang for good on a stale rehash lock, and it picks its interpreter from whatever
// .python-version file is in the working folder. The interpreters behind a pyenv shim are
// taken from its versions folder instead.
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, open, readdir, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface FindPythonOptions {
  /** Lowest acceptable [major, minor]. */
  readonly min: readonly [number, number];
  /** Modules the interpreter must import, e.g. ['venv', 'ensurepip'] to make venvs, ['pip'] to install. */
  readonly modules?: readonly string[];
  /** @default process.env.PATH */
  readonly searchPath?: string;
  /** pyenv's root folder. @default $PYENV_ROOT, else ~/.pyenv */
  readonly pyenvRoot?: string;
  /** Searched last. @default ['/usr/local/bin', '/usr/bin'] */
  readonly systemDirs?: readonly string[];
}

export interface FoundPython {
  /** The path as found (a venv's python keeps its venv, so it is not resolved further). */
  readonly path: string;
  /** e.g. "3.12.1" */
  readonly version: string;
}

/** Newest minor version we look for by name; a newer one is still found as `python3`. */
const NEWEST_MINOR = 14;
const PROBE_TIMEOUT_MS = 15_000;

/**
 * Yields every suitable interpreter, best first, each real executable once. Every
 * candidate passed over is recorded in `attempts` with the reason, for error messages.
 */
export async function* findPythons(options: FindPythonOptions, attempts: string[] = []): AsyncGenerator<FoundPython> {
  const seen = new Set<string>();
  const pyenvRoots = [options.pyenvRoot ?? process.env.PYENV_ROOT ?? path.join(homedir(), '.pyenv')];
  const names = candidateNames(options.min);

  const consider = async function* (candidate: string, where: string): AsyncGenerator<FoundPython> {
    const real = await realpath(candidate).catch(() => undefined);
    if (!real || seen.has(real)) return;
    seen.add(real);
    const shim = await shimKind(real);
    if (shim) {
      attempts.push(`${candidate} (${where}): a ${shim} shim, not run`);
      const root = path.dirname(path.dirname(real));
      if (shim === 'pyenv' && path.basename(path.dirname(real)) === 'shims' && !pyenvRoots.includes(root)) pyenvRoots.push(root);
      return;
    }
    const problem = await probe(candidate, options);
    if (typeof problem === 'string') attempts.push(`${candidate} (${where}): ${problem}`);
    else yield problem;
  };

  for (const dir of splitPath(options.searchPath ?? process.env.PATH ?? '')) {
    for (const name of names) {
      if (await isExecutable(path.join(dir, name))) yield* consider(path.join(dir, name), 'on PATH');
    }
  }
  for (const root of pyenvRoots) {
    for (const version of await versionFolders(path.join(root, 'versions'), options.min, attempts)) {
      for (const name of names) {
        const candidate = path.join(root, 'versions', version, 'bin', name);
        if (await isExecutable(candidate)) yield* consider(candidate, 'pyenv');
      }
    }
  }
  for (const dir of options.systemDirs ?? ['/usr/local/bin', '/usr/bin']) {
    for (const name of names) {
      if (await isExecutable(path.join(dir, name))) yield* consider(path.join(dir, name), dir);
    }
  }
  if (seen.size === 0) attempts.push(`no python3 executable on PATH, in ${pyenvRoots.join(', ')} or the system folders`);
}

/** The first suitable interpreter, or undefined (then `attempts` says why). */
export async function findPython(options: FindPythonOptions, attempts: string[] = []): Promise<FoundPython | undefined> {
  for await (const found of findPythons(options, attempts)) return found;
  return undefined;
}

/** python3.14 … python3.<min>, then python3 and python. */
function candidateNames(min: readonly [number, number]): string[] {
  const names: string[] = [];
  for (let minor = NEWEST_MINOR; minor >= min[1] && min[0] === 3; minor--) names.push(`python3.${minor}`);
  return [...names, 'python3', 'python'];
}

function splitPath(searchPath: string): string[] {
  return searchPath.split(path.delimiter).filter(Boolean);
}

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** pyenv's version folders, newest first, leaving out those whose name says they are too old. */
async function versionFolders(dir: string, min: readonly [number, number], attempts: string[]): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const parsed = names.map((name) => ({ name, version: /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(name)?.slice(1).map(Number) }));
  const tooOld = parsed.filter((p) => p.version && compare(p.version, min) < 0).map((p) => p.name);
  if (tooOld.length > 0) attempts.push(`${dir}: ${tooOld.join(', ')} older than ${min.join('.')}`);
  return parsed
    .filter((p) => !p.version || compare(p.version, min) >= 0)
    .sort((a, b) => compare(b.version ?? [0], a.version ?? [0]))
    .map((p) => p.name);
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * Which version manager's shim a file is, if any: a shim lives in a `shims` folder or is a
 * small script that hands over to the manager. Real interpreters are binaries (a venv's
 * python is a symlink to one, resolved before this is asked).
 */
export async function shimKind(file: string): Promise<string | undefined> {
  const head = await readHead(file, 4096).catch(() => undefined);
  if (head === undefined) return undefined;
  if (!head.startsWith('#!')) return undefined;
  for (const manager of ['pyenv', 'asdf', 'mise']) if (new RegExp(`\\b${manager}\\b`).test(head)) return manager;
  return path.basename(path.dirname(file)) === 'shims' ? 'version-manager' : undefined;
}

/** The first `bytes` of a file as text (enough for a `#!` line and a shim's tell-tale words). */
export async function readHead(file: string, bytes: number, encoding: BufferEncoding = 'latin1'): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString(encoding);
  } finally {
    await handle.close();
  }
}

/** The interpreter's version when it is recent enough and has the modules, else what is wrong. */
async function probe(python: string, options: FindPythonOptions): Promise<FoundPython | string> {
  const modules = options.modules ?? [];
  const script = [
    'import sys',
    ...modules.map((m) => `import ${m}`),
    'print("%d.%d.%d" % tuple(sys.version_info[:3]))',
  ].join('\n');
  let stdout: string;
  try {
    ({ stdout } = await run(python, ['-c', script], { timeout: PROBE_TIMEOUT_MS }));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').at(-1);
    return `does not run${modules.length > 0 ? ` or lacks ${modules.join('/')}` : ''}: ${stderr || (error as Error).message.split('\n')[0]}`;
  }
  const version = stdout.trim();
  const parts = version.split('.').map(Number);
  if (parts.length !== 3 || parts.some(Number.isNaN)) return `answered "${version}" instead of a version`;
  if (compare(parts, options.min) < 0) return `Python ${version}, older than ${options.min.join('.')}`;
  return { path: python, version };
}
