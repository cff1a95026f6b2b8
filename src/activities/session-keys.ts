// Session API keys stay in the worker: activities look them up from the Runtime API
// (GET /sessions/{sid}) and cache them here, so no key is ever passed to or returned
// from the workflow and none lands in history. A key is tied to the runtime it was
// issued for; a runtime replaced behind our back brings a new one.
import type { RuntimeApiClient } from '../runtime-api/index.js';

interface CachedKey {
  readonly runtimeId: string;
  readonly key: string | undefined;
}

export class SessionKeyCache {
  readonly #keys = new Map<string, CachedKey>();

  constructor(private readonly runtimeApi: RuntimeApiClient) {}

  remember(sessionId: string, runtimeId: string, key: string | null | undefined): void {
    this.#keys.set(sessionId, { runtimeId, key: key ?? undefined });
  }

  forget(sessionId: string): void {
    this.#keys.delete(sessionId);
  }

  /** The key of `runtimeId`, from the cache or the Runtime API. */
  async get(sessionId: string, runtimeId: string, signal?: AbortSignal): Promise<string | undefined> {
    const cached = this.#keys.get(sessionId);
    if (cached?.runtimeId === runtimeId) return cached.key;
    const session = await this.runtimeApi.getSession(sessionId, { signal });
    if (session && session.runtime_id === runtimeId) {
      this.remember(sessionId, runtimeId, session.session_api_key);
      return session.session_api_key ?? undefined;
    }
    // The runtime is not the session's current one; callers get a 401/404 and recover.
    return undefined;
  }
}
