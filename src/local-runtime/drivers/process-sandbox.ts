// One sandbox of the process driver: an agent's server under a small bash wrapper. Isolated
// (the default), it runs in a jail of namespaces (../isolation/jail.ts), whose processes all
// descend from the jail's first one, however they detach. Without isolation it leads its own
// process group, and an agent whose helpers leave the group (the OpenHands server's tmux
// servers and bash commands call setsid) is also reached through a tag in the environment
// of everything it starts.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentChoice, AgentLauncher, AgentRun } from '../agents/agent.js';
import type { Jail } from '../isolation/jail.js';
import { NO_ISOLATION_WARNING } from '../isolation/isolation.js';
import { PROCESS_TAG_VAR, findProcesses, killAll, signalProcess, signalProcesses } from '../sandbox/process-tree.js';
import type { ProcessSelector } from '../sandbox/process-tree.js';
import type { LogFn, SandboxAddress, SandboxInstance, SandboxSpec } from './driver.js';
import { deferred } from './driver.js';

// Run through bash so the open-file limit is raised before the agent starts (an agent server
// with many terminals runs out at the usual 1024), and so injected faults need no help from
// the agent. $1 = start delay in seconds, $2 = 1 to crash at once, then the command.
const PREAMBLE = [
  'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null',
  'if [ "$2" = 1 ]; then echo "injected fault: crashOnStart" >&2; exit 1; fi',
  'if [ "$1" != 0 ]; then sleep "$1"; fi',
  // A sandbox whose network is its own is reached through a socket relay (../isolation/socket-relay.ts).
  'if [ -n "$DC_RELAY_SCRIPT" ]; then "$DC_RELAY_NODE" "$DC_RELAY_SCRIPT" & unset DC_RELAY_NODE DC_RELAY_SCRIPT DC_RELAY_SOCKET DC_RELAY_PORT; fi',
  'shift 2',
];
const WRAPPER = [...PREAMBLE, 'exec "$@"'].join('\n');

// Without a jail (which dies with us), the shell agent stops itself once we are gone; an
// agent whose helpers leave its group (the OpenHands server) would run on for good, its tmux
// servers too. So its wrapper stays:
// it runs the agent as a child and watches its stdin, a pipe from us that the kernel closes
// when we end, however we end (SIGKILL included). Then it stops the agent and kills every
// process carrying the run's tag. (A paused runtime is frozen, wrapper and all: the next
// server on the data folder kills its group; see ledger.ts.)
const TETHERED_WRAPPER = [
  ...PREAMBLE,
  '"$@" </dev/null & child=$!',
  `trap 'kill -TERM "$child" 2>/dev/null' TERM INT`,
  'while kill -0 "$child" 2>/dev/null; do',
  '  read -r -t 1 _; status=$?',
  '  # >128: timed out (or a signal came), keep watching; 0: a stray line; else stdin closed',
  '  [ "$status" -gt 128 ] || [ "$status" -eq 0 ] && continue',
  '  kill -TERM "$child" 2>/dev/null',
  '  for _ in 1 2 3 4 5; do kill -0 "$child" 2>/dev/null && sleep 1; done',
  '  for f in /proc/[0-9]*/environ; do',
  '    p=${f#/proc/}; p=${p%/environ}',
  `    [ "$p" != $$ ] && grep -qzx "${PROCESS_TAG_VAR}=$${PROCESS_TAG_VAR}" "$f" 2>/dev/null && kill -KILL "$p" 2>/dev/null`,
  '  done',
  '  exit 1',
  'done',
  'wait "$child"',
].join('\n');

// The sandbox gets only these from our environment: the server's own secrets (its API key,
// Temporal credentials) must not be readable by code running in a sandbox.
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'SHELL', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'TERM'];

/** How long to wait for a killed process group's last members to be reaped. */
const REAP_WAIT_MS = 2000;

/** What a sandbox needs from its driver. */
export interface DriverHooks {
  readonly log: LogFn;
  /** Where sandboxes run; undefined: without isolation (RUNTIME_ISOLATION=off). */
  readonly jail: Jail | undefined;
  /** A sandbox process exists (`selector` when its helpers leave its group), or no longer does. */
  readonly spawned: (pgid: number, selector: ProcessSelector | undefined) => void;
  readonly gone: (pgid: number) => void;
}

/** One run of an agent: planned by its launcher (which may take a while), then spawned. */
export class ProcessSandbox implements SandboxInstance {
  readonly #spawned = deferred<void>();
  readonly #listening = deferred<SandboxAddress>();
  readonly #exited = deferred<void>();
  readonly #prefix: string;
  #pid: number | undefined;
  /** Set when the agent's helpers leave its process group. */
  #selector: ProcessSelector | undefined;
  #run: AgentRun | undefined;
  #command: SandboxCommand | undefined;
  #hasExited = false;
  #stopping = false;
  /** Paused before the spawn: the process is frozen as soon as it exists. */
  #paused = false;

  constructor(
    private readonly spec: SandboxSpec & AgentChoice,
    private readonly launcher: AgentLauncher | undefined,
    private readonly hooks: DriverHooks,
    private readonly onExit: (reason: string) => void,
  ) {
    this.#prefix = `[${spec.runtimeId}]`;
    if (!launcher) {
      setImmediate(() => this.#ended(`failed to start: this server has no ${spec.agent} agent`));
      return;
    }
    const planned = launcher.prepare({ ...spec, privateNetwork: hooks.jail?.network === 'none' }).then(async (run) => {
      this.#run = run;
      this.#command = await this.#commandFor(run);
      return { run, command: this.#command };
    });
    planned.then(
      ({ run, command }) => this.#launch(run, command),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        hooks.log(`${this.#prefix} cannot start the ${spec.agent} agent: ${message}`);
        this.#spawned.reject(new Error(message));
        this.#ended(`failed to start: ${message.split('\n')[0]}`);
      },
    );
  }

  get spawned(): Promise<void> {
    return this.#spawned.promise;
  }
  get listening(): Promise<SandboxAddress> {
    return this.#listening.promise;
  }
  get pid(): number | undefined {
    return this.#pid;
  }

  pause(): void {
    this.#paused = true;
    this.#signal('SIGSTOP');
  }

  resume(): void {
    this.#paused = false;
    this.#signal('SIGCONT');
  }

  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    const pid = this.#pid;
    // Still being planned (the agent server may be installing): #launch sees #stopping.
    if (pid === undefined) return;
    if (!this.#hasExited) {
      this.#terminate(pid); // the agent itself, which closes its terminals on the way out
      this.#signal('SIGCONT'); // a frozen process acts on SIGTERM only once it runs again
      const killer = setTimeout(() => this.#signal('SIGKILL'), graceMs);
      await this.#exited.promise;
      clearTimeout(killer);
    }
    await this.#exited.promise;
    if (!(await groupGone(pid))) this.hooks.log(`${this.#prefix} process group ${pid} still has members after SIGKILL`);
  }

  /** The wrapper's command line, in the jail when there is one. */
  async #commandFor(run: AgentRun): Promise<SandboxCommand> {
    const { spec } = this;
    const { jail } = this.hooks;
    const tethered = run.escapesGroup && !jail;
    const args = [String(spec.startDelayMs / 1000), spec.crashOnStart ? '1' : '0', run.command, ...run.args];
    // No startup files: with a pipe (a socket) for stdin, bash would read ~/.bashrc as if run
    // by rshd, and a user's .bashrc can hang (seen: `pyenv rehash` waiting on a stale lock).
    const bash = ['--norc', '--noprofile', '-c', tethered ? TETHERED_WRAPPER : WRAPPER, 'sandbox', ...args];
    if (!jail) {
      this.hooks.log(`${this.#prefix} WARNING ${NO_ISOLATION_WARNING}`);
      return { command: 'bash', args: bash, cwd: run.cwd, tethered };
    }
    // With a network of its own, the agent is reached through a relay inside the jail.
    if (jail.network === 'none' && run.port === undefined) throw new Error(`the ${spec.agent} agent picks its own port, which a sandbox with a network of its own cannot tell us`);
    const relay = jail.network === 'none' ? await jail.relayFor(spec.runtimeId, run.port!) : undefined;
    const mounts = relay
      ? { writable: [...run.mounts.writable, ...relay.mounts.writable], readOnly: [...run.mounts.readOnly, ...relay.mounts.readOnly] }
      : run.mounts;
    await jail.prepare(spec.workspaceDir, mounts);
    const jailed = await jail.wrap(spec.workspaceDir, mounts, run.cwd, ['bash', ...bash]);
    return { ...jailed, cwd: '/', tethered: false, env: relay?.env, address: relay?.address };
  }

  #launch(run: AgentRun, command: SandboxCommand): void {
    if (this.#stopping) return this.#ended('stopped before it was spawned');
    const { spec } = this;
    const jailed = this.hooks.jail !== undefined;
    const tag = `local-runtime/${spec.runtimeId}/`;
    const child = spawn(command.command, command.args, {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: command.cwd,
      env: sandboxEnv(spec, run, { ...(run.escapesGroup && !jailed ? { [PROCESS_TAG_VAR]: tag } : {}), ...(jailed ? JAILED_ENV : {}), ...command.env }),
    });
    // The tether (never written to; a broken pipe only means the wrapper is gone), else EOF.
    child.stdin.on('error', () => {});
    if (!command.tethered) child.stdin.end();
    this.#pid = child.pid;
    if (child.pid !== undefined) {
      // A jail's processes all descend from its first one; without one, the group and the tag.
      if (jailed) this.#selector = { roots: [child.pid], groups: [child.pid] };
      else if (run.escapesGroup) this.#selector = { tagPrefix: tag, roots: [], groups: [child.pid] };
      this.hooks.spawned(child.pid, this.#selector);
      if (this.#paused) this.#signal('SIGSTOP');
    }
    child.on('spawn', () => {
      this.#spawned.resolve();
      if (run.port !== undefined) this.#listening.resolve(command.address ?? { port: run.port });
    });
    child.on('error', (error) => {
      this.#spawned.reject(error);
      if (child.pid === undefined) this.#ended(`failed to spawn: ${error.message}`);
    });
    child.on('exit', (code, signal) => this.#ended(signal ? `killed by signal ${signal}` : `exited with code ${code}`));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const port = this.launcher?.listeningPort(line);
      if (port !== undefined) this.#listening.resolve(command.address ?? { port });
      this.hooks.log(`${this.#prefix} ${line}`);
    });
    createInterface({ input: child.stderr }).on('line', (line) => this.hooks.log(`${this.#prefix} ${line}`));
  }

  /**
   * Asks the agent to end. In a jail, everything in it but bubblewrap, whose own end would
   * SIGKILL the rest at once (and whose first process inside ignores SIGTERM anyway).
   */
  #terminate(pid: number): void {
    if (!this.hooks.jail) {
      signalGroup(pid, 'SIGTERM');
      return;
    }
    for (const member of findProcesses({ roots: [pid] })) {
      if (member !== pid) signalProcess(member, 'SIGTERM');
    }
  }

  /** Everything of the run: its group, plus (for an agent whose helpers leave it) its tag or its jail. */
  #signal(signal: NodeJS.Signals): void {
    if (this.#selector) signalProcesses(this.#selector, signal);
    else if (this.#pid !== undefined) signalGroup(this.#pid, signal);
  }

  #ended(reason: string): void {
    if (this.#hasExited) return;
    this.#hasExited = true;
    const pid = this.#pid;
    if (pid !== undefined) {
      this.hooks.gone(pid);
      signalGroup(pid, 'SIGKILL'); // commands the sandbox left behind
    }
    this.#listening.reject(new Error(`sandbox ${reason} before listening`));
    void (async () => {
      if (this.#selector) await killAll(this.#selector);
      await this.#run?.cleanup().catch((error: unknown) => this.hooks.log(`${this.#prefix} cleanup failed: ${String(error)}`));
      const socket = this.#command?.address?.socketPath;
      if (socket) await rm(path.dirname(socket), { recursive: true, force: true });
      this.#exited.resolve();
      if (!this.#stopping) this.onExit(reason);
    })();
  }
}

/** How the wrapper is spawned. */
interface SandboxCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** Its stdin is kept open, as the wrapper's tether to us. */
  readonly tethered: boolean;
  /** Set over everything else in its environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Where it will be reached, when not at the agent's port (a private network's socket relay). */
  readonly address?: SandboxAddress;
}

/** In a jail, our HOME and TMPDIR are not there; its private /tmp is (an agent may set its own HOME). */
const JAILED_ENV = { HOME: '/tmp', TMPDIR: '/tmp' };

/** Our few harmless variables, the agent's defaults, the `/start` environment, then the agent's fixed ones. */
function sandboxEnv(spec: SandboxSpec, run: AgentRun, fixed: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  const merged: NodeJS.ProcessEnv = { ...env, ...fixed, ...run.envDefaults, ...spec.environment, ...run.env };
  if (fixed[PROCESS_TAG_VAR] !== undefined) merged[PROCESS_TAG_VAR] = fixed[PROCESS_TAG_VAR];
  // Read by non-interactive bash and sh at start: a wrapper must run no user file.
  delete merged.BASH_ENV;
  delete merged.ENV;
  return merged;
}

/** Signals a whole process group; false when it no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
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
