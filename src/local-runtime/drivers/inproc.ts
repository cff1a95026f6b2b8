// Sandboxes as agent servers inside this process: for benchmarks and scale tests, where a
// process per runtime would measure the operating system rather than this code. Commands
// still run as child processes (each in its own group), so pause can freeze them; requests
// are held off by the ingress, which answers 503 while a runtime is paused.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningAgentServer } from '../sandbox/agent-server.js';
import { startAgentServer } from '../sandbox/agent-server.js';
import type { LogFn, SandboxAddress, SandboxDriver, SandboxInstance, SandboxSpec } from './driver.js';
import { deferred } from './driver.js';

export class InprocDriver implements SandboxDriver {
  readonly name = 'inproc';
  readonly #log: LogFn;
  readonly #live = new Set<RunningAgentServer>();

  constructor(log: LogFn) {
    this.#log = log;
  }

  start(spec: SandboxSpec, onExit: (reason: string) => void): SandboxInstance {
    const listening = deferred<SandboxAddress>();
    let server: RunningAgentServer | undefined;
    let stopping = false;
    const fail = (reason: string) => {
      listening.reject(new Error(`sandbox ${reason}`));
      if (!stopping) onExit(reason);
    };

    let starting: Promise<void> = Promise.resolve();
    if (spec.crashOnStart) {
      // The same state machine as a process that exits at once.
      setImmediate(() => fail('exited with code 1 (injected fault: crashOnStart)'));
    } else {
      starting = this.#listen(spec, () => stopping).then(
        (started) => {
          server = started;
          if (started) listening.resolve({ port: started.port });
        },
        (error: unknown) => {
          this.#log(`[${spec.runtimeId}] agent server failed to start: ${String(error)}`);
          fail('failed to start');
        },
      );
    }

    return {
      spawned: Promise.resolve(),
      listening: listening.promise,
      pid: undefined,
      pause: () => server?.signalCommands('SIGSTOP'),
      resume: () => server?.signalCommands('SIGCONT'),
      stop: async () => {
        stopping = true;
        listening.reject(new Error('sandbox stopped'));
        await starting; // a server still starting closes itself once it sees `stopping`
        if (!server) return;
        server.signalCommands('SIGCONT'); // frozen commands must run to act on their SIGTERM
        this.#live.delete(server);
        await server.close();
      },
    };
  }

  /** Starts the agent server after the injected delay; undefined when stopped meanwhile. */
  async #listen(spec: SandboxSpec, stopped: () => boolean): Promise<RunningAgentServer | undefined> {
    if (spec.startDelayMs > 0) await sleep(spec.startDelayMs);
    if (stopped()) return undefined;
    const server = await startAgentServer({
      sessionApiKeys: [spec.sessionApiKey],
      workspaceDir: spec.workspaceDir,
      commandProcessGroup: 'own',
      host: '127.0.0.1',
      port: 0,
      ...(spec.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: spec.commandTimeoutMs }),
    });
    if (stopped()) {
      await server.close();
      return undefined;
    }
    this.#live.add(server);
    return server;
  }

  killAllSync(): void {
    for (const server of this.#live) server.signalCommands('SIGKILL');
    this.#live.clear();
  }
}
