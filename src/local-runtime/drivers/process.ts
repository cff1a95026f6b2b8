// The default driver: every sandbox is a child process, an agent server planned by the
// runtime's agent launcher (src/local-runtime/agents/), in a jail of namespaces of its own
// (../isolation/), so pause, resume and stop reach every process it started
// (process-sandbox.ts) and it sees nothing of the machine it need not.
import type { AgentChoice, AgentLaunchers } from '../agents/agent.js';
import type { Jail } from '../isolation/jail.js';
import { signalProcesses } from '../sandbox/process-tree.js';
import type { ProcessSelector } from '../sandbox/process-tree.js';
import type { LogFn, SandboxDriver, SandboxInstance, SandboxSpec } from './driver.js';
import { SandboxLedger } from './ledger.js';
import type { DriverHooks } from './process-sandbox.js';
import { ProcessSandbox, signalGroup } from './process-sandbox.js';

export interface ProcessDriverOptions {
  readonly log: LogFn;
  /** The agents it can run. */
  readonly launchers: AgentLaunchers;
  /** Where sandboxes run (isolation/isolation.ts createJail); undefined runs them without isolation. */
  readonly jail: Jail | undefined;
  /** Where to record running sandboxes, so a later server can clean up after a crashed one. */
  readonly ledgerFile?: string;
}

export class ProcessDriver implements SandboxDriver {
  readonly name = 'process';
  /** Sandboxes that have not exited yet: process group id → how to reach all of it. */
  readonly #live = new Map<number, ProcessSelector | undefined>();
  readonly #launchers: AgentLaunchers;
  readonly #hooks: DriverHooks;

  constructor(options: ProcessDriverOptions) {
    const { log, ledgerFile, launchers, jail } = options;
    const ledger = ledgerFile ? new SandboxLedger(ledgerFile, log) : undefined;
    this.#launchers = launchers;
    this.#hooks = {
      log,
      jail,
      spawned: (pgid, selector) => {
        this.#live.set(pgid, selector);
        ledger?.add(pgid);
      },
      gone: (pgid) => {
        this.#live.delete(pgid);
        ledger?.remove(pgid);
      },
    };
  }

  /** A spec without an agent choice runs the shell agent in the runtime's folder. */
  start(spec: SandboxSpec & Partial<AgentChoice>, onExit: (reason: string) => void): SandboxInstance {
    const agent = spec.agent ?? 'shell';
    return new ProcessSandbox({ ...spec, agent, workingDir: spec.workingDir }, this.#launchers[agent], this.#hooks, onExit);
  }

  killAllSync(): void {
    for (const [pgid, selector] of this.#live) {
      signalGroup(pgid, 'SIGKILL');
      if (selector) signalProcesses(selector, 'SIGKILL');
    }
    this.#live.clear();
  }
}
