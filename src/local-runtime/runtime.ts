// One runtime: a sandbox for one session and its status, as the Runtime API reports it.
// `status` is session-level (starting → running ⇄ paused → stopped, or error); `pod_status`
// follows Kubernetes: pending → running (spawned) → ready (answers GET /alive).
import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { PodStatus, SessionStatus } from '../runtime-api/runtime-api-schemas.js';
import { conflict } from '../http-server/errors.js';
import type { AgentName } from './agents/agent.js';
import type { LogFn, SandboxAddress, SandboxDriver, SandboxInstance } from './drivers/driver.js';

export interface RuntimeDeps {
  readonly driver: SandboxDriver;
  readonly maxRestarts: number;
  readonly stopGraceMs: number;
  readonly commandTimeoutMs: number | undefined;
  readonly startDelayMs: number;
  readonly crashOnStart: boolean;
  readonly neverReady: boolean;
  readonly log: LogFn;
}

export interface RuntimeInit {
  readonly runtimeId: string;
  readonly sessionId: string;
  readonly sessionApiKey: string;
  readonly url: string;
  readonly workspaceDir: string;
  readonly environment: Readonly<Record<string, string>>;
  /** Which agent server the sandbox runs (the process driver reads it; inproc runs the shell agent). */
  readonly agent: AgentName;
  /** The `/start` request's `working_dir`. */
  readonly workingDir: string | undefined;
}

const ALIVE_POLL_MS = 20;
const ALIVE_TIMEOUT_MS = 2000;
const restartBackoffMs = (restarts: number) => Math.min(100 * 2 ** (restarts - 1), 2000);

export class LocalRuntime {
  status: SessionStatus = 'starting';
  podStatus: PodStatus = 'pending';
  restartCount = 0;
  readonly restartReasons: string[] = [];
  /** When its sandbox was gone after a stop; a stopped runtime stays listed for a while. */
  stoppedAt: number | undefined;

  #instance: SandboxInstance | undefined;
  #address: SandboxAddress | undefined;
  #pool: Pool | undefined;
  /** Bumped per sandbox run and on stop: exit reports of an older run are ignored. */
  #generation = 0;
  /** Bumped whenever readiness probing must stop (pause, exit, stop). */
  #probe = 0;
  #everReady = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;

  constructor(
    readonly init: RuntimeInit,
    private readonly deps: RuntimeDeps,
  ) {}

  get runtimeId(): string {
    return this.init.runtimeId;
  }
  get sessionId(): string {
    return this.init.sessionId;
  }
  /** Where the sandbox listens, while it does. */
  get address(): SandboxAddress | undefined {
    return this.#address;
  }
  get pid(): number | undefined {
    return this.#instance?.pid;
  }
  /** Where the ingress may send a request: only to a ready sandbox that is not paused. */
  get upstream(): Pool | undefined {
    return this.status !== 'paused' && this.podStatus === 'ready' ? this.#pool : undefined;
  }

  async start(): Promise<void> {
    try {
      await mkdir(this.init.workspaceDir, { recursive: true });
    } catch (error) {
      this.deps.log(`[${this.runtimeId}] cannot create workspace: ${String(error)}`);
      if (this.status !== 'stopped') [this.status, this.podStatus] = ['error', 'failed'];
      return;
    }
    if (this.status === 'starting' && !this.#instance) this.#launch();
  }

  pause(): void {
    if (this.status === 'stopped' || this.status === 'error') throw conflict(`runtime is ${this.status}`);
    if (this.status === 'paused') return;
    this.status = 'paused';
    this.podStatus = 'not found'; // a paused runtime has no pod serving it
    this.#probe++;
    this.#instance?.pause();
  }

  resume(): void {
    if (this.status === 'stopped' || this.status === 'error') throw conflict(`runtime is ${this.status}`);
    if (this.status !== 'paused') return;
    this.status = this.#everReady ? 'running' : 'starting';
    if (!this.#instance) {
      // It exited (or was waiting to restart) while paused.
      this.#launch();
      return;
    }
    this.podStatus = 'running';
    this.#instance.resume();
    void this.#awaitReady(this.#generation, this.#instance);
  }

  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.status = 'stopped';
    this.podStatus = 'not found';
    this.#generation++;
    this.#probe++;
    clearTimeout(this.#restartTimer);
    const instance = this.#instance;
    this.#instance = undefined;
    this.#stopping = (async () => {
      try {
        await instance?.stop(this.deps.stopGraceMs);
      } finally {
        await this.#detach();
        this.stoppedAt = Date.now();
      }
    })();
    return this.#stopping;
  }

  #launch(): void {
    const generation = ++this.#generation;
    this.podStatus = 'pending';
    const instance = this.deps.driver.start(this.#spec(), (reason) => this.#onExit(generation, reason));
    this.#instance = instance;
    instance.spawned.then(
      () => {
        if (generation === this.#generation && this.podStatus === 'pending' && this.status !== 'paused') this.podStatus = 'running';
      },
      () => undefined, // a failed spawn is reported through onExit
    );
    void this.#awaitReady(generation, instance);
  }

  #spec() {
    const { runtimeId, sessionApiKey, workspaceDir, environment, agent, workingDir } = this.init;
    const { commandTimeoutMs, startDelayMs, crashOnStart } = this.deps;
    return { runtimeId, sessionApiKey, workspaceDir, environment, agent, workingDir, commandTimeoutMs, startDelayMs, crashOnStart };
  }

  /** Waits for the sandbox to listen, then polls GET /alive until it answers: pod `ready`. */
  async #awaitReady(generation: number, instance: SandboxInstance): Promise<void> {
    const probe = ++this.#probe;
    const current = () => generation === this.#generation && probe === this.#probe && this.status !== 'paused';
    let address: SandboxAddress;
    try {
      address = await instance.listening;
    } catch {
      return; // it ended first; onExit reports why
    }
    if (!current()) return;
    this.#attach(address);
    if (this.deps.neverReady) return;
    while (current()) {
      if (await this.#alive()) {
        if (!current()) return;
        this.podStatus = 'ready';
        this.status = 'running';
        this.#everReady = true;
        return;
      }
      await sleep(ALIVE_POLL_MS);
    }
  }

  /**
   * GET /alive answers anyone, so it cannot tell our server from another on the same port:
   * a real agent server takes seconds to bind the free port it was given, and meanwhile a
   * restarting neighbour can take that port (seen under load: requests with this runtime's
   * key reached another runtime's server and got 401). So a call that needs this runtime's
   * session key must pass too.
   */
  async #alive(): Promise<boolean> {
    return (await this.#answers('/alive')) && (await this.#answers('/api/conversations/count', { 'x-session-api-key': this.init.sessionApiKey }));
  }

  async #answers(path: string, headers?: Record<string, string>): Promise<boolean> {
    try {
      const res = await this.#pool!.request({ method: 'GET', path, headers, headersTimeout: ALIVE_TIMEOUT_MS, bodyTimeout: ALIVE_TIMEOUT_MS });
      await res.body.dump();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }

  #onExit(generation: number, reason: string): void {
    if (generation !== this.#generation || this.status === 'stopped') return;
    this.deps.log(`[${this.runtimeId}] sandbox ${reason}`);
    this.#instance = undefined;
    this.#probe++;
    void this.#detach();
    if (this.restartCount >= this.deps.maxRestarts) {
      this.status = 'error';
      this.podStatus = 'crashloopbackoff';
      return;
    }
    this.restartCount++;
    this.restartReasons.push(reason);
    this.podStatus = 'pending';
    if (this.status === 'paused') return; // resume() relaunches
    this.#restartTimer = setTimeout(() => {
      if (this.status !== 'paused' && this.status !== 'stopped' && !this.#instance) this.#launch();
    }, restartBackoffMs(this.restartCount));
  }

  #attach(address: SandboxAddress): void {
    if (this.#address?.port === address.port && this.#address?.socketPath === address.socketPath && this.#pool) return;
    void this.#detach();
    this.#address = address;
    // Timeouts are the caller's business: a long-running request must not be cut here.
    const options = { headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 10_000 };
    this.#pool =
      address.socketPath === undefined
        ? new Pool(`http://127.0.0.1:${address.port}`, options)
        : new Pool('http://localhost', { ...options, connect: { socketPath: address.socketPath } });
  }

  async #detach(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    this.#address = undefined;
    await pool?.destroy();
  }
}
