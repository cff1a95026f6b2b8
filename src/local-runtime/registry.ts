// The runtimes this server knows, and how they are reported. Stopped runtimes stay visible
// for a while (as on the hosted Runtime API, where they drop out of /list "after a while"),
// so a client that asks right after a stop learns `stopped` rather than 404.
import type { LocalRuntime } from './runtime.js';

export class RuntimeRegistry {
  readonly #byId = new Map<string, LocalRuntime>();
  readonly #retentionMs: number;

  constructor(stoppedRetentionMs: number) {
    this.#retentionMs = stoppedRetentionMs;
  }

  add(runtime: LocalRuntime): void {
    this.#byId.set(runtime.runtimeId, runtime);
  }

  get(runtimeId: string): LocalRuntime | undefined {
    const runtime = this.#byId.get(runtimeId);
    return runtime && this.#expired(runtime, Date.now()) ? this.#drop(runtime) : runtime;
  }

  /** The session's runtime that is not stopped; there is at most one. */
  liveForSession(sessionId: string): LocalRuntime | undefined {
    for (const runtime of this.#byId.values()) if (runtime.sessionId === sessionId && runtime.status !== 'stopped') return runtime;
    return undefined;
  }

  /** The session's live runtime, else its most recently stopped one. */
  forSession(sessionId: string): LocalRuntime | undefined {
    const live = this.liveForSession(sessionId);
    if (live) return live;
    let latest: LocalRuntime | undefined;
    for (const runtime of this.all()) {
      if (runtime.sessionId === sessionId && (runtime.stoppedAt ?? 0) >= (latest?.stoppedAt ?? 0)) latest = runtime;
    }
    return latest;
  }

  /** Every runtime still visible, oldest first. */
  all(): LocalRuntime[] {
    const now = Date.now();
    for (const runtime of this.#byId.values()) if (this.#expired(runtime, now)) this.#drop(runtime);
    return [...this.#byId.values()];
  }

  #expired(runtime: LocalRuntime, now: number): boolean {
    return runtime.stoppedAt !== undefined && now - runtime.stoppedAt >= this.#retentionMs;
  }

  #drop(runtime: LocalRuntime): undefined {
    this.#byId.delete(runtime.runtimeId);
    return undefined;
  }
}

/** What `GET /sessions/{sid}` returns (it does not echo `session_id`, like the hosted API). */
export function sessionView(runtime: LocalRuntime) {
  return {
    runtime_id: runtime.runtimeId,
    url: runtime.init.url,
    status: runtime.status,
    pod_status: runtime.podStatus,
    session_api_key: runtime.init.sessionApiKey,
    // A sandbox with a network of its own has no address but its socket file: only the ingress.
    work_hosts: runtime.address?.port === undefined ? {} : { [`127.0.0.1:${runtime.address.port}`]: runtime.address.port },
    restart_count: runtime.restartCount,
    restart_reasons: [...runtime.restartReasons],
  };
}

/** An entry of `GET /list`. */
export function listView(runtime: LocalRuntime) {
  return { session_id: runtime.sessionId, ...sessionView(runtime) };
}

/** What `GET /runtime/{runtime_id}` returns. */
export function runtimeView(runtime: LocalRuntime) {
  return {
    runtime_id: runtime.runtimeId,
    pod_status: runtime.podStatus,
    status: runtime.status,
    restart_count: runtime.restartCount,
    restart_reasons: [...runtime.restartReasons],
  };
}

/** What `POST /start` returns. */
export function startView(runtime: LocalRuntime) {
  const { runtime_id, url, session_api_key, work_hosts, status, pod_status } = sessionView(runtime);
  return { runtime_id, url, session_api_key, work_hosts, status, pod_status };
}
