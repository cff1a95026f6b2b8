// The Debian packages the project runs (bubblewrap for sandbox isolation, chromium for the
// browser test): found on PATH, else installed with apt-get where we run as root on a
// Debian-like system, as the project's own set-up does on its machines and in CI.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { isExecutable } from './python.js';

const run = promisify(execFile);

/** An install downloads and unpacks; the index update before it may take longer. */
const APT_TIMEOUT_MS = 900_000;

/** The first of `names` found in the folders of `searchPath`. */
export async function findOnPath(names: readonly string[], searchPath = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (await isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * Installs `packages` with apt-get: undefined once done, else why not (not root, no
 * apt-get, or apt-get's last line). A first try without an index update is enough on a
 * machine that has one; a fresh machine often has none ("Unable to locate package").
 */
export async function aptInstall(packages: readonly string[], log?: (message: string) => void): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return `not root, so not installing: install the ${packages.join(', ')} package(s) with this system's package manager`;
  const aptGet = await findOnPath(['apt-get'], `${process.env.PATH ?? ''}${path.delimiter}/usr/bin`);
  if (!aptGet) return `no apt-get: install the ${packages.join(', ')} package(s) with this system's package manager`;
  log?.(`installing Debian's ${packages.join(', ')} with apt-get (one time)…`);
  const options = { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: APT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 };
  const install = () => run(aptGet, ['install', '-y', '-qq', '--no-install-recommends', ...packages], options);
  try {
    await install();
    return undefined;
  } catch {
    // most likely no package index yet: update it, then try once more
  }
  try {
    await run(aptGet, ['update', '-qq'], options);
    await install();
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').at(-1);
    return stderr || (error as Error).message.split('\n')[0];
  }
}
