// What the routes act on: creates runtimes (at most one live per session), finds them,
// and stops them all on shutdown. Knows nothing of HTTP.
import { createHash, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { StartRuntimeRequest } from '../runtime-api/runtime-api-schemas.js';
import type { AgentName } from './agents/agent.js';
import { chooseAgent } from './agents/agent.js';
import type { LogFn, SandboxDriver } from './drivers/driver.js';
import type { FaultInjector } from './faults.js';
import { RuntimeRegistry } from './registry.js';
import type { RuntimeDeps } from './runtime.js';
import { LocalRuntime } from './runtime.js';

export interface RuntimeServiceSettings {
  readonly driver: SandboxDriver;
  readonly faults: FaultInjector;
  readonly dataDir: string;
  readonly maxRestarts: number;
  readonly stopGraceMs: number;
  readonly stoppedRetentionMs: number;
  readonly commandTimeoutMs: number | undefined;
  /** What a runtime runs when its `/start` request names no agent (see chooseAgent). */
  readonly defaultAgent: AgentName;
  /** Whether `/start` may pick the agent; the inproc driver runs only the shell agent. */
  readonly agentFromRequest: boolean;
  readonly log: LogFn;
}

export class RuntimeService {
  readonly registry: RuntimeRegistry;
  /** Set once the server listens: runtime URLs are `<baseUrl>/sandboxes/<runtime_id>`. */
  baseUrl = '';
  readonly #deps: RuntimeDeps;
  readonly #workspaces: string;
  readonly #driver: SandboxDriver;
  readonly #agentFor: (request: StartRuntimeRequest) => AgentName;

  constructor(settings: RuntimeServiceSettings) {
    const { driver, faults, log } = settings;
    this.registry = new RuntimeRegistry(settings.stoppedRetentionMs);
    this.#driver = driver;
    this.#agentFor = (request) => (settings.agentFromRequest ? chooseAgent(request, settings.defaultAgent) : settings.defaultAgent);
    this.#workspaces = join(resolve(settings.dataDir), 'workspaces');
    this.#deps = {
      driver,
      log,
      maxRestarts: settings.maxRestarts,
      stopGraceMs: settings.stopGraceMs,
      commandTimeoutMs: settings.commandTimeoutMs,
      startDelayMs: faults.startDelayMs,
      crashOnStart: faults.crashOnStart,
      neverReady: faults.neverReady,
    };
  }

  /** The session's live runtime, or a new one (synchronous, so two starts cannot race). */
  start(request: StartRuntimeRequest): LocalRuntime {
    const existing = this.registry.liveForSession(request.session_id);
    if (existing) return existing;
    const runtimeId = randomBytes(12).toString('hex');
    const runtime = new LocalRuntime(
      {
        runtimeId,
        sessionId: request.session_id,
        sessionApiKey: randomBytes(32).toString('base64url'),
        url: `${this.baseUrl}/sandboxes/${runtimeId}`,
        workspaceDir: join(this.#workspaces, workspaceName(request.session_id)),
        environment: { ...request.environment },
        agent: this.#agentFor(request),
        workingDir: request.working_dir,
      },
      this.#deps,
    );
    this.registry.add(runtime);
    const what = `${runtime.init.agent} agent, ${this.#driver.name} driver`;
    this.#deps.log(`[${runtimeId}] starting for session ${JSON.stringify(request.session_id)} (${what})`);
    void runtime.start();
    return runtime;
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled(this.registry.all().map((runtime) => runtime.stop()));
  }

  killAllSync(): void {
    this.#driver.killAllSync();
  }
}

/** A folder name for a session ID: itself when harmless, else a hash (no `..`, no slashes). */
function workspaceName(sessionId: string): string {
  if (/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(sessionId)) return sessionId;
  return `sid-${createHash('sha256').update(sessionId).digest('hex').slice(0, 40)}`;
}
