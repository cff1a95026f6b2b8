// Finds bubblewrap (`bwrap`), the tool that puts each sandbox in namespaces of its own (the
// mechanism Flatpak uses). It is a Debian package, not a pip or npm one: found on PATH (or
// at an explicit path), else, where we run as root on a Debian-like system, installed with
// apt-get. Anywhere else the error says how to get it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ToolNotFoundError } from '../temporal/tool-resolver.js';
import { isExecutable } from './python.js';

const run = promisify(execFile);

export const BUBBLEWRAP = { executable: 'bwrap', debianPackage: 'bubblewrap', pathVariable: 'RUNTIME_BWRAP_PATH' } as const;

/** An apt-get install downloads and unpacks one small package; the index update may take longer. */
const APT_TIMEOUT_MS = 300_000;

export interface ResolveBubblewrapOptions {
  readonly explicitPath?: string;
  /** @default process.env.PATH */
  readonly searchPath?: string;
  /** Install with apt-get when missing, if we are root and apt-get exists. @default true */
  readonly install?: boolean;
  readonly log?: (message: string) => void;
}

export async function resolveBubblewrap(options: ResolveBubblewrapOptions = {}): Promise<string> {
  const { executable, debianPackage, pathVariable } = BUBBLEWRAP;
  if (options.explicitPath) {
    if (await isExecutable(options.explicitPath)) return path.resolve(options.explicitPath);
    throw new ToolNotFoundError(debianPackage, [`${pathVariable}=${options.explicitPath}: not an executable file`]);
  }
  const searchPath = options.searchPath ?? process.env.PATH ?? '';
  const found = await onPath(executable, searchPath);
  if (found) return found;
  const attempts = [`PATH: no executable named ${executable}`];

  if (process.platform !== 'linux') {
    attempts.push(`${process.platform}: namespaces are a Linux feature; there is no bubblewrap here`);
    throw new ToolNotFoundError(debianPackage, attempts);
  }
  const aptGet = await onPath('apt-get', searchPath);
  if (!(options.install ?? true)) attempts.push('installing was not allowed here (`npm run setup` installs it)');
  else if (process.getuid?.() !== 0) attempts.push(`not root, so not installing: install the ${debianPackage} package (apt, dnf, pacman: same name)`);
  else if (!aptGet) attempts.push(`no apt-get: install the ${debianPackage} package with this system's package manager`);
  else {
    options.log?.(`installing ${debianPackage} with apt-get (one time)…`);
    const problem = await aptInstall(aptGet, debianPackage);
    const installed = await onPath(executable, `${searchPath}${path.delimiter}/usr/bin`);
    if (installed) return installed;
    attempts.push(`apt-get install ${debianPackage}: ${problem ?? `installed, but no ${executable} on PATH`}`);
  }
  throw new ToolNotFoundError(debianPackage, attempts);
}

/** apt-get install, with one index update first if the package is not known yet; a failure's last line, else undefined. */
async function aptInstall(aptGet: string, pkg: string): Promise<string | undefined> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run(aptGet, ['install', '-y', '--no-install-recommends', pkg], { env, timeout: APT_TIMEOUT_MS });
  try {
    await install();
    return undefined;
  } catch {
    // A fresh machine often has no package index yet ("Unable to locate package").
  }
  try {
    await run(aptGet, ['update'], { env, timeout: APT_TIMEOUT_MS });
    await install();
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').at(-1);
    return stderr || (error as Error).message.split('\n')[0];
  }
}

async function onPath(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}
