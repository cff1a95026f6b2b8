// The default driver: every sandbox is a child process, an agent server planned by the
// runtime's agent launcher (src/local-runtime/agents/), leading its own process group, so
// pause, resume and stop reach every command it started as well. An agent whose helpers
// leave the group (the OpenHands server's tmux servers) is also reached through a tag in
// the environment of everything it starts.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentChoice, AgentLaunchers, AgentRun } from '../agents/agent.js';
import { ShellAgentLauncher } from '../agents/shell.js';
import { PROCESS_TAG_VAR, killAll, signalProcesses } from '../sandbox/process-tree.js';
import type { ProcessSelector } from '../sandbox/process-tree.js';
import type { LogFn, SandboxDriver, SandboxInstance, SandboxSpec } from './driver.js';
import { deferred } from './driver.js';
import { SandboxLedger } from './ledger.js';

// Run through bash so the open-file limit is raised before the agent starts (an agent server
// with many terminals runs out at the usual 1024), and so injected faults need no help from
// the agent. $1 = start delay in seconds, $2 = 1 to crash at once, then the command.
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
  /** Sandboxes that have not exited yet: process group id → how to reach all of it. */
  readonly #live = new Map<number, ProcessSelector | undefined>();
  readonly #ledger: SandboxLedger | undefined;
  readonly #launchers: AgentLaunchers;

  /**
   * `ledgerFile`: where to record running sandboxes, so a later server can clean up after a
   * crashed one. `launchers`: the agents it can run. @default the shell agent only
   */
  constructor(log: LogFn, ledgerFile?: string, launchers: AgentLaunchers = { shell: new ShellAgentLauncher() }) {
    this.#log = log;
    this.#ledger = ledgerFile ? new SandboxLedger(ledgerFile, log) : undefined;
    this.#launchers = launchers;
  }

  /** A spec without an agent choice runs the shell agent in the runtime's folder. */
  start(spec: SandboxSpec & Partial<AgentChoice>, onExit: (reason: string) => void): SandboxInstance {
    const agent = spec.agent ?? 'shell';
    const launcher = this.#launchers[agent];
    const prefix = `[${spec.runtimeId}]`;
    const spawned = deferred<void>();
    const listening = deferred<number>();
    const exited = deferred<void>();
    let pid: number | undefined;
    let selector: ProcessSelector | undefined;
    let agentRun: AgentRun | undefined;
    let [hasExited, stopping] = [false, false];

    // Everything of the run: its group, plus (for an agent whose helpers leave it) its tag.
    const signal = (sig: NodeJS.Signals) => (selector ? signalProcesses(selector, sig).length > 0 : pid !== undefined && signalGroup(pid, sig));
    const ended = (reason: string) => {
      if (hasExited) return;
      hasExited = true;
      if (pid !== undefined) {
        this.#live.delete(pid);
        this.#ledger?.remove(pid);
        signalGroup(pid, 'SIGKILL'); // commands the sandbox left behind
      }
      listening.reject(new Error(`sandbox ${reason} before listening`));
      void (async () => {
        if (selector) await killAll(selector);
        await agentRun?.cleanup().catch((error: unknown) => this.#log(`${prefix} cleanup failed: ${String(error)}`));
        exited.resolve();
        if (!stopping) onExit(reason);
      })();
    };

    const launch = (run: AgentRun) => {
      agentRun = run;
      if (stopping) return ended('stopped before it was spawned');
      const tag = `local-runtime/${spec.runtimeId}/`;
      const args = [String(spec.startDelayMs / 1000), spec.crashOnStart ? '1' : '0', run.command, ...run.args];
      const child = spawn('bash', ['-c', WRAPPER, 'sandbox', ...args], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: run.cwd,
        env: sandboxEnv(spec, run, run.escapesGroup ? { [PROCESS_TAG_VAR]: tag } : {}),
      });
      pid = child.pid;
      if (pid !== undefined) {
        selector = run.escapesGroup ? { tagPrefix: tag, roots: [], groups: [pid] } : undefined;
        this.#live.set(pid, selector);
        this.#ledger?.add(pid);
      }
      child.on('spawn', () => {
        spawned.resolve();
        if (run.port !== undefined) listening.resolve(run.port);
      });
      child.on('error', (error) => {
        spawned.reject(error);
        if (pid === undefined) ended(`failed to spawn: ${error.message}`);
      });
      child.on('exit', (code, sig) => ended(sig ? `killed by signal ${sig}` : `exited with code ${code}`));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const port = launcher?.listeningPort(line);
        if (port !== undefined) listening.resolve(port);
        this.#log(`${prefix} ${line}`);
      });
      createInterface({ input: child.stderr }).on('line', (line) => this.#log(`${prefix} ${line}`));
    };

    if (!launcher) {
      setImmediate(() => ended(`failed to start: this server has no ${agent} agent`));
    } else {
      launcher.prepare({ ...spec, agent, workingDir: spec.workingDir }).then(launch, (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        this.#log(`${prefix} cannot start the ${agent} agent: ${message}`);
        spawned.reject(new Error(message));
        ended(`failed to start: ${message.split('\n')[0]}`);
      });
    }

    return {
      spawned: spawned.promise,
      listening: listening.promise,
      get pid() {
        return pid;
      },
      pause: () => signal('SIGSTOP'),
      resume: () => signal('SIGCONT'),
      stop: async (graceMs) => {
        stopping = true;
        // Still being planned (the agent server may be installing): `launch` sees `stopping`.
        if (pid === undefined) return;
        if (!hasExited) {
          signalGroup(pid, 'SIGTERM'); // the agent itself, which closes its terminals on the way out
          signal('SIGCONT'); // a frozen process acts on SIGTERM only once it runs again
          const killer = setTimeout(() => signal('SIGKILL'), graceMs);
          await exited.promise;
          clearTimeout(killer);
        } else {
          await exited.promise;
        }
        if (!(await groupGone(pid))) this.#log(`${prefix} process group ${pid} still has members after SIGKILL`);
      },
    };
  }

  killAllSync(): void {
    for (const [pgid, selector] of this.#live) {
      signalGroup(pgid, 'SIGKILL');
      if (selector) signalProcesses(selector, 'SIGKILL');
    }
    this.#live.clear();
  }
}

/** Our few harmless variables, the agent's defaults, the `/start` environment, then the agent's fixed ones. */
function sandboxEnv(spec: SandboxSpec, run: AgentRun, tag: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  return { ...env, ...run.envDefaults, ...spec.environment, ...run.env, ...tag };
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
