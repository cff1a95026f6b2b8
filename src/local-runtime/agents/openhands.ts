// The real OpenHands agent server (PyPI openhands-agent-server, found or installed by
// src/tools/agent-server.ts). It keeps its state in folders relative to its working folder
// and its terminals in tmux servers under $TMUX_TMPDIR, so each runtime gets its own of
// both; and it binds the port it is given, so a free loopback port is chosen first.
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ResolvedAgentServer } from '../../tools/agent-server.js';
import type { AgentLauncher, AgentRun, AgentSpec } from './agent.js';
import { runtimeFolder } from './agent.js';

const run = promisify(execFile);

/**
 * One conversation per runtime, plus the sub-agents it delegates to: a child conversation
 * takes a run slot of its own, and so does creating a conversation. The server's default of
 * 10 is sized for a shared server; 4 leaves a conversation three helpers at once while
 * capping what one sandbox can fan out to (each run is an LLM loop and a thread).
 */
export const DEFAULT_MAX_CONCURRENT_RUNS = 4;

/** tmux binds $TMUX_TMPDIR/tmux-<uid>/openhands-<32 hex>, which must fit in 107 bytes. */
const MAX_TMUX_TMPDIR = 107 - '/tmux-4294967295/openhands-'.length - 32;

export interface OpenHandsLauncherOptions {
  /** The server to run; called per run, so pass a memoized resolver. */
  readonly server: () => Promise<ResolvedAgentServer>;
  /** OH_MAX_CONCURRENT_RUNS. @default DEFAULT_MAX_CONCURRENT_RUNS */
  readonly maxConcurrentRuns?: number;
}

export class OpenHandsAgentLauncher implements AgentLauncher {
  readonly name = 'openhands';

  constructor(private readonly options: OpenHandsLauncherOptions) {}

  async prepare(spec: AgentSpec): Promise<AgentRun> {
    const server = await this.options.server();
    const cwd = runtimeFolder(spec.workspaceDir, spec.workingDir);
    const tmuxDir = tmuxTmpdir(spec.runtimeId);
    await Promise.all([mkdir(cwd, { recursive: true }), mkdir(tmuxDir, { recursive: true, mode: 0o700 })]);
    const port = await freeLoopbackPort();
    const state = path.join(cwd, 'workspace');
    // The agent's terminal is an interactive bash in tmux, which reads ~/.bashrc: with the
    // user's own HOME, a .bashrc that hangs (seen: `pyenv rehash` on a stale lock, 60 s)
    // stalled every command. The runtime gets a home of its own, empty of the user's files.
    const home = path.join(state, 'home');
    await mkdir(home, { recursive: true });
    return {
      command: server.command,
      args: [...server.args, '--host', '127.0.0.1', '--port', String(port)],
      cwd,
      env: {
        OH_SESSION_API_KEYS_0: spec.sessionApiKey,
        SESSION_API_KEY: spec.sessionApiKey,
        TMUX_TMPDIR: tmuxDir,
        HOME: home,
      },
      envDefaults: {
        OH_MAX_CONCURRENT_RUNS: String(this.options.maxConcurrentRuns ?? DEFAULT_MAX_CONCURRENT_RUNS),
        // Without it litellm tries to download its model price map at import: seconds lost offline.
        LITELLM_LOCAL_MODEL_COST_MAP: 'True',
        // Every runtime would start VS Code on port 8001, and preload a Chromium pip never installs.
        OH_ENABLE_VSCODE: 'false',
        OH_PRELOAD_TOOLS: 'false',
        // These default to /tmp and ~/.openhands, shared by every runtime.
        OH_CONVERSATION_WORKTREE_ROOT: path.join(state, 'worktrees'),
        OH_PERSISTENCE_DIR: path.join(state, '.openhands'),
        // One log record per line, as our log reads them; no banner.
        LOG_JSON: 'true',
        PYTHONUNBUFFERED: '1',
        OPENHANDS_SUPPRESS_BANNER: '1',
      },
      port,
      escapesGroup: true,
      mounts: { writable: [spec.workspaceDir, tmuxDir], readOnly: server.paths },
      cleanup: () => cleanupTmux(tmuxDir),
    };
  }

  listeningPort(): undefined {
    return undefined; // chosen before the spawn
  }
}

/** A short per-runtime folder: the system temp folder when it fits tmux's socket path, else /tmp. */
export function tmuxTmpdir(runtimeId: string): string {
  const name = `dc-tmux-${runtimeId}`;
  const preferred = path.join(tmpdir(), name);
  return Buffer.byteLength(preferred) <= MAX_TMUX_TMPDIR ? preferred : path.join('/tmp', name);
}

/**
 * Ends every tmux server of the run (by then they are normally killed by their tag already;
 * this also covers systems without /proc, where tags cannot be read) and removes the folder.
 */
async function cleanupTmux(tmuxDir: string): Promise<void> {
  const socketDir = path.join(tmuxDir, `tmux-${process.getuid?.() ?? 0}`);
  const sockets = await readdir(socketDir).catch(() => [] as string[]);
  await Promise.all(
    sockets.map((name) => run('tmux', ['-S', path.join(socketDir, name), 'kill-server'], { timeout: 2000 }).catch(() => undefined)),
  );
  await rm(tmuxDir, { recursive: true, force: true });
}

/**
 * A loopback port that is free right now. Another process could take it before the server
 * binds it; the server then exits and the runtime restarts on a fresh port.
 */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
