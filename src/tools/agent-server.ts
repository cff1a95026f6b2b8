// Finds the real OpenHands agent server (PyPI `openhands-agent-server`), resolving like the
// Temporal CLI: an explicit path, then `agent-server` on PATH, then a project-local venv in
// .tools/, installed there the first time with the first Python ≥ 3.12 found. Every
// candidate is checked through its interpreter (`importlib.metadata`), which answers in
// milliseconds, where starting the server itself to ask takes 10-20 s of imports.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ToolNotFoundError } from '../temporal/tool-resolver.js';
import { isExecutable, readHead } from './python.js';
import { installVenv } from './venv-install.js';

const run = promisify(execFile);

export const OPENHANDS_AGENT_SERVER = {
  pipPackage: 'openhands-agent-server',
  /** Pinned, so every machine runs the server the project was checked against. */
  version: '1.58.2',
  executable: 'agent-server',
  module: 'openhands.agent_server',
  pathVariable: 'OPENHANDS_AGENT_SERVER_PATH',
  minPython: [3, 12] as const,
} as const;

/** The project's tools folder (git-ignored), the same one src/temporal/server.ts installs into. */
export const PROJECT_TOOLS_DIR = path.resolve(import.meta.dirname, '..', '..', '.tools');

/** How to run the server: `command ...args --host H --port N`. */
export interface ResolvedAgentServer {
  readonly source: 'explicit' | 'path' | 'project';
  readonly command: string;
  readonly args: readonly string[];
  readonly version: string;
  /** The interpreter behind it. */
  readonly python: string;
  /**
   * Where the server and its interpreter live (the venv, the base Python's prefix, every
   * folder on its sys.path): what an isolated sandbox must be shown, read-only, to run it.
   */
  readonly paths: readonly string[];
}

export interface ResolveAgentServerOptions {
  /**
   * A python that can `-m openhands.agent_server`, or the package's `agent-server` console
   * script (its interpreter is read from the `#!` line). Any version is accepted here, with a
   * warning when it is not the pinned one: an explicit choice is the user's to make.
   */
  readonly explicitPath?: string;
  /** Folder for project-local installs (git-ignored). */
  readonly toolsDir: string;
  /** @default process.env.PATH */
  readonly searchPath?: string;
  /** Install into toolsDir when nothing is found. @default true */
  readonly install?: boolean;
  readonly log?: (message: string) => void;
}

/** Where the project-local venv lives. */
export function agentServerVenv(toolsDir: string): string {
  const { pipPackage, version } = OPENHANDS_AGENT_SERVER;
  return path.join(toolsDir, `${pipPackage}-${version}`);
}

export async function resolveAgentServer(options: ResolveAgentServerOptions): Promise<ResolvedAgentServer> {
  const { pathVariable, version: pinned, executable } = OPENHANDS_AGENT_SERVER;
  if (options.explicitPath) {
    const found = await inspect(path.resolve(options.explicitPath));
    // An explicit path that does not work is a mistake to report, not to paper over.
    if (typeof found === 'string') throw new ToolNotFoundError(OPENHANDS_AGENT_SERVER.pipPackage, [`${pathVariable}=${options.explicitPath}: ${found}`]);
    if (found.version !== pinned) options.log?.(`${pathVariable} runs openhands-agent-server ${found.version}; the project is checked against ${pinned}`);
    return { ...found, source: 'explicit' };
  }

  const attempts: string[] = [];
  const dirs = (options.searchPath ?? process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, executable);
    if (!(await isExecutable(candidate))) continue;
    const found = await inspect(candidate);
    if (typeof found === 'string') attempts.push(`${candidate} (on PATH): ${found}`);
    else if (found.version !== pinned) attempts.push(`${candidate} (on PATH): version ${found.version}, not the pinned ${pinned}`);
    else return { ...found, source: 'path' };
  }
  if (!attempts.some((a) => a.includes('(on PATH)'))) attempts.push(`PATH: no executable named ${executable}`);

  const venv = agentServerVenv(options.toolsDir);
  const local = await inspect(path.join(venv, 'bin', 'python'));
  if (typeof local !== 'string' && local.version === pinned) return { ...local, source: 'project' };
  const notThere = typeof local === 'string' && !(await isExecutable(path.join(venv, 'bin', 'python')));
  attempts.push(`${venv}: ${notThere ? 'not installed' : typeof local === 'string' ? local : `version ${local.version}`}`);

  if (options.install ?? true) {
    options.log?.(`installing ${OPENHANDS_AGENT_SERVER.pipPackage} ${pinned} (one time, a few minutes)…`);
    const problem = await installVenv({
      target: venv,
      requirement: `${OPENHANDS_AGENT_SERVER.pipPackage}==${pinned}`,
      minPython: OPENHANDS_AGENT_SERVER.minPython,
      verify: async (dir) => {
        const found = await inspect(path.join(dir, 'bin', 'python'));
        return typeof found === 'string' ? found : undefined;
      },
      log: options.log,
    });
    if (!problem) {
      const installed = await inspect(path.join(venv, 'bin', 'python'));
      if (typeof installed !== 'string') return { ...installed, source: 'project' };
      attempts.push(`install into ${venv}: installed, but ${installed}`);
    } else {
      attempts.push(`install into ${venv}: ${problem}`);
    }
  }
  throw new ToolNotFoundError(OPENHANDS_AGENT_SERVER.pipPackage, attempts);
}

/** How to run `file` (a python or a console script) and which version it has, else what is wrong. */
async function inspect(file: string): Promise<Omit<ResolvedAgentServer, 'source'> | string> {
  if (!(await isExecutable(file))) return 'not an executable file';
  const shebang = await readShebang(file);
  let python = file;
  if (shebang !== undefined) {
    // A console script: its first line names the interpreter that has the package.
    if (!path.isAbsolute(shebang) || path.basename(shebang) === 'env') return `a script run by #!${shebang}: name its python instead`;
    python = shebang;
  }
  const script = [
    'import importlib.metadata as m, importlib.util as u',
    `assert u.find_spec("${OPENHANDS_AGENT_SERVER.module}"), "no module ${OPENHANDS_AGENT_SERVER.module}"`,
    `print(m.version("${OPENHANDS_AGENT_SERVER.pipPackage}"))`,
    'import sys, os, json',
    'roots = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix] + sys.path',
    'print(json.dumps(sorted({os.path.realpath(p) for p in roots if p and os.path.exists(p)})))',
  ].join('\n');
  try {
    const { stdout } = await run(python, ['-c', script], { timeout: 30_000 });
    const [version = '', roots = '[]'] = stdout.trim().split('\n');
    const args = shebang === undefined ? ['-m', OPENHANDS_AGENT_SERVER.module] : [];
    return { command: file, args, version, python, paths: outermost([file, python, ...(JSON.parse(roots) as string[])]) };
  } catch (error) {
    const last = (error as { stderr?: string }).stderr?.trim().split('\n').at(-1);
    return `${python} cannot load ${OPENHANDS_AGENT_SERVER.module}: ${last || (error as Error).message.split('\n')[0]}`;
  }
}

/** The paths not inside another of them. */
function outermost(paths: readonly string[]): string[] {
  const sorted = [...new Set(paths)].sort();
  return sorted.filter((p, i) => !sorted.slice(0, i).some((outer) => p.startsWith(`${outer}/`)));
}

/** The interpreter of a `#!` script, or undefined for a binary. */
async function readShebang(file: string): Promise<string | undefined> {
  const head = await readHead(file, 1024, 'utf8'); // the interpreter's path, which may not be ASCII
  if (!head.startsWith('#!')) return undefined;
  const [first = '', second = ''] = head.slice(2).split('\n');
  const interpreter = first.trim().split(/\s+/)[0] ?? '';
  // pip writes `#!/bin/sh` and `'''exec' <python> "$0" "$@"` when the python path is too long for #!.
  const viaSh = /^'''exec' '?([^'\s]+)/.exec(second);
  if (path.basename(interpreter) === 'sh' && viaSh) return viaSh[1];
  return interpreter;
}
