// Builds a project-local Python venv for a tool: in a staging folder beside the target,
// renamed into place only once it works, so two processes installing at once never see a
// half-built venv (the second rename finds the target there and keeps it).
import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { pip, lastLine } from './pip.js';
import { findPythons } from './python.js';

const run = promisify(execFile);

const VENV_TIMEOUT_MS = 120_000;
/** The agent server's dependency tree takes about three minutes to resolve here. */
const PIP_TIMEOUT_MS = 30 * 60_000;

export interface VenvInstall {
  /** Final folder of the venv. */
  readonly target: string;
  /** pip requirement, e.g. `openhands-agent-server==1.58.2`. */
  readonly requirement: string;
  readonly minPython: readonly [number, number];
  /** Checks a built venv (in staging, then in place); undefined when it works, else why not. */
  readonly verify: (venvDir: string) => Promise<string | undefined>;
  readonly log?: (message: string) => void;
}

/** Undefined once the target holds a working venv, else what went wrong. */
export async function installVenv(install: VenvInstall): Promise<string | undefined> {
  const parent = path.dirname(install.target);
  await mkdir(parent, { recursive: true });
  const attempts: string[] = [];
  for await (const python of findPythons({ min: install.minPython, modules: ['venv', 'ensurepip'] }, attempts)) {
    const staging = await mkdtemp(path.join(parent, `.${path.basename(install.target)}-`));
    try {
      install.log?.(`building ${install.target} with Python ${python.version} (${python.path})`);
      try {
        await run(python.path, ['-m', 'venv', staging], { timeout: VENV_TIMEOUT_MS });
      } catch (error) {
        // This interpreter cannot make venvs after all: the next one may.
        attempts.push(`${python.path} -m venv: ${lastLine((error as { stderr?: string }).stderr) ?? (error as Error).message}`);
        continue;
      }
      const venvPython = path.join(staging, 'bin', 'python');
      const pipProblem = await pip(venvPython, ['install', '--quiet', '--disable-pip-version-check', install.requirement], PIP_TIMEOUT_MS);
      // pip can exit non-zero over something beside the point (a warning, a script it could
      // not write) with the package installed: the venv itself is the judge.
      const problem = await install.verify(staging);
      if (problem) return `pip install ${install.requirement} with ${python.path}: ${pipProblem ?? problem}`;
      await relocate(staging, install.target);
      await chmod(staging, 0o755); // mkdtemp made it private; a tool folder is not
      try {
        await rename(staging, install.target);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Another process finished the same install first: keep theirs.
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
      return install.verify(install.target);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  return `no Python ≥ ${install.minPython.join('.')} that can make a venv. Tried: ${attempts.join('; ')}`;
}

/**
 * A venv's scripts name its folder in their `#!` line (and `activate` sets it): point them
 * at the final folder before the rename, so `bin/agent-server` works from there by hand.
 */
async function relocate(staging: string, target: string): Promise<void> {
  const bin = path.join(staging, 'bin');
  for (const name of await readdir(bin)) {
    const file = path.join(bin, name);
    const info = await lstat(file);
    if (!info.isFile() || info.size > 1024 * 1024) continue;
    const text = await readFile(file, 'latin1');
    if (text.includes('\0') || !text.includes(staging)) continue;
    await writeFile(file, text.split(staging).join(target), { encoding: 'latin1', mode: info.mode });
  }
}
