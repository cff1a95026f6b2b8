// The default driver: every sandbox is a child process (the sandbox's main.ts) leading its
// own process group, so pause, resume and stop reach every command it started as well.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogFn, SandboxDriver, SandboxInstance, SandboxSpec } from './driver.js';
import { deferred } from './driver.js';
import { SandboxLedger } from './ledger.js';

const SANDBOX_MAIN = fileURLToPath(new URL('../sandbox/main.ts', import.meta.url));

// Run through bash so the open-file limit is raised before node starts (an agent server with
// many terminals runs out at the usual 1024), and so injected faults need no help from the
// sandbox. $1 = start delay in seconds, $2 = 1 to crash at once, then the command.
const WRAPPER = [
  'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null',
  'if [ "$2" = 1 ]; then echo "injected fault: crashOnStart" >&2; exit 1; fi',
  'if [ "$1" != 0 ]; then sleep "$1"; fi',
  'shift 2',
  'exec "$@"',
].join('\n');

// The sandbox gets only these from our environment: the server's own secrets (its API key,
// Temporal credentials) must not be readable by code running in a sandbox.
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'SHELL', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'TERM'];

/** How long to wait for a killed process group's last members to be reaped. */
const REAP_WAIT_MS = 2000;

export class ProcessDriver implements SandboxDriver {
  readonly name = 'process';
  readonly #log: LogFn;
  /** Process group ids of sandboxes that have not exited yet. */
  readonly #live = new Set<number>();

  readonly #ledger: SandboxLedger | undefined;

  /** `ledgerFile`: where to record running sandboxes, so a later server can clean up after a crashed one. */
  constructor(log: LogFn, ledgerFile?: string) {
    this.#log = log;
    this.#ledger = ledgerFile ? new SandboxLedger(ledgerFile, log) : undefined;
  }

  start(spec: SandboxSpec, onExit: (reason: string) => void): SandboxInstance {
    const tsx = import.meta.resolve('tsx');
    const args = [String(spec.startDelayMs / 1000), spec.crashOnStart ? '1' : '0', process.execPath, '--import', tsx, SANDBOX_MAIN];
    const child = spawn('bash', ['-c', WRAPPER, 'sandbox', ...args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: spec.workspaceDir,
      env: sandboxEnv(spec),
    });
    const pid = child.pid;
    if (pid !== undefined) {
      this.#live.add(pid);
      this.#ledger?.add(pid);
    }
    const spawned = deferred<void>();
    const listening = deferred<number>();
    const exited = deferred<void>();
    let hasExited = false;
    let stopping = false;
    const prefix = `[${spec.runtimeId}]`;

    const ended = (reason: string) => {
      if (hasExited) return;
      hasExited = true;
      if (pid !== undefined) {
        this.#live.delete(pid);
        this.#ledger?.remove(pid);
        signalGroup(pid, 'SIGKILL'); // commands the sandbox left behind
      }
      listening.reject(new Error(`sandbox ${reason} before listening`));
      exited.resolve();
      if (!stopping) onExit(reason);
    };
    child.on('spawn', () => spawned.resolve());
    child.on('error', (error) => {
      spawned.reject(error);
      if (pid === undefined) ended(`failed to spawn: ${error.message}`);
    });
    child.on('exit', (code, signal) => ended(signal ? `killed by signal ${signal}` : `exited with code ${code}`));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const port = listeningPort(line);
      if (port !== undefined) listening.resolve(port);
      this.#log(`${prefix} ${line}`);
    });
    createInterface({ input: child.stderr }).on('line', (line) => this.#log(`${prefix} ${line}`));

    return {
      spawned: spawned.promise,
      listening: listening.promise,
      pid,
      pause: () => pid !== undefined && signalGroup(pid, 'SIGSTOP'),
      resume: () => pid !== undefined && signalGroup(pid, 'SIGCONT'),
      stop: async (graceMs) => {
        stopping = true;
        if (pid === undefined) return;
        if (!hasExited) {
          signalGroup(pid, 'SIGTERM');
          signalGroup(pid, 'SIGCONT'); // a frozen process acts on SIGTERM only once it runs again
          const killer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
          await exited.promise;
          clearTimeout(killer);
        }
        if (!(await groupGone(pid))) this.#log(`${prefix} process group ${pid} still has members after SIGKILL`);
      },
    };
  }

  killAllSync(): void {
    for (const pgid of this.#live) signalGroup(pgid, 'SIGKILL');
    this.#live.clear();
  }
}

function sandboxEnv(spec: SandboxSpec): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  return {
    ...env,
    ...spec.environment,
    SESSION_API_KEY: spec.sessionApiKey,
    SANDBOX_WORKSPACE: spec.workspaceDir,
    SANDBOX_HOST: '127.0.0.1',
    SANDBOX_PORT: '0',
    ...(spec.commandTimeoutMs === undefined ? {} : { SANDBOX_COMMAND_TIMEOUT_MS: String(spec.commandTimeoutMs) }),
  };
}

/** The sandbox announces its port with one JSON line: {"event":"listening","port":N}. */
function listeningPort(line: string): number | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as { event?: unknown; port?: unknown };
    return parsed.event === 'listening' && typeof parsed.port === 'number' ? parsed.port : undefined;
  } catch {
    return undefined;
  }
}

/** Signals a whole process group; false when it no longer exists. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Kills what is left of a group and waits until its members are reaped. */
async function groupGone(pgid: number): Promise<boolean> {
  const deadline = Date.now() + REAP_WAIT_MS;
  while (signalGroup(pgid, 'SIGKILL')) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}
