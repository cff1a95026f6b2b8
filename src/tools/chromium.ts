// Finds a headless-capable Chromium for the browser test that looks at the Temporal UI,
// or installs Debian's `chromium` package with apt-get when running as root (as on the
// project's machines and CI). Browser builds downloaded by npm packages cannot be fetched
// here, so the distribution's package is the one source; anything else must be on PATH
// or named by CHROMIUM_PATH.
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

export class ChromiumNotFoundError extends Error {
  constructor(readonly attempts: readonly string[]) {
    super(`no Chromium found or installable. Tried:\n${attempts.map((a) => `  - ${a}`).join('\n')}`);
    this.name = 'ChromiumNotFoundError';
  }
}

export interface ResolveChromiumOptions {
  readonly explicitPath?: string;
  /** Install Debian's package with apt-get when missing and root. @default true */
  readonly install?: boolean;
  readonly log?: (message: string) => void;
}

export async function resolveChromium(options: ResolveChromiumOptions = {}): Promise<string> {
  const attempts: string[] = [];
  if (options.explicitPath) {
    if (await executable(options.explicitPath)) return options.explicitPath;
    throw new ChromiumNotFoundError([`CHROMIUM_PATH=${options.explicitPath}: not an executable file`]);
  }
  const found = await onPath();
  if (found) return found;
  attempts.push(`PATH: none of ${NAMES.join(', ')}`);
  if (options.install === false) throw new ChromiumNotFoundError([...attempts, 'apt-get: not allowed here']);
  const problem = await aptInstall(options.log);
  if (!problem) {
    const installed = await onPath();
    if (installed) return installed;
    attempts.push('apt-get install chromium: installed, but no chromium on PATH');
  } else {
    attempts.push(`apt-get install chromium: ${problem}`);
  }
  throw new ChromiumNotFoundError(attempts);
}

async function onPath(): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of NAMES) {
      const candidate = path.join(dir, name);
      if (await executable(candidate)) return candidate;
    }
  }
  return undefined;
}

async function executable(file: string): Promise<boolean> {
  return access(file, fsConstants.X_OK).then(() => true, () => false);
}

/** Undefined on success, else why not. The package lists are refreshed first: a fresh machine has none. */
async function aptInstall(log?: (message: string) => void): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root (install Debian\'s chromium package, or set CHROMIUM_PATH)';
  if (!(await executable('/usr/bin/apt-get'))) return 'no apt-get on this machine';
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    log?.('installing Debian\'s chromium package with apt-get (one time, a minute or two)…');
    await run('apt-get', ['update', '-qq'], { env, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium', 'fonts-dejavu-core'], { env, timeout: 900_000, maxBuffer: 64 * 1024 * 1024 });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    return stderr.trim().split('\n').at(-1) ?? (error as Error).message.split('\n')[0];
  }
}
