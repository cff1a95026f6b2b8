// The shared-runtime owner's whole state, one plain-JSON object carried across
// continue-as-new: the runtime, the conversations on it, and counters for operators.
import type { SharedRuntimeRef, SharedRuntimeSettings, SharedRuntimeStatus } from './messages.js';
import { sharedSessionId } from './messages.js';

export interface SharedRuntimeState {
  readonly name: string;
  readonly sessionId: string;
  settings: SharedRuntimeSettings;
  runtime: { id?: string; url?: string; state: SharedRuntimeStatus['runtimeState']; generation: number };
  /** Conversation IDs attached: the runtime runs while this is not empty. */
  users: string[];
  /** A conversation reported the current runtime lost: look at it (and replace it if gone). */
  checkDue: boolean;
  /** Counts requests that want a runtime; a failed provisioning is tried again only for a newer one. */
  requests: number;
  /** `requests` when provisioning last failed, and why. */
  failedAt?: { requests: number; message: string };
  lastUsedAt: number;
  counters: { attached: number; detached: number; replaced: number };
}

export function initialSharedRuntimeState(name: string, settings: SharedRuntimeSettings, now: number): SharedRuntimeState {
  return {
    name,
    sessionId: sharedSessionId(name),
    settings,
    runtime: { state: 'none', generation: 0 },
    users: [],
    checkDue: false,
    requests: 0,
    lastUsedAt: now,
    counters: { attached: 0, detached: 0, replaced: 0 },
  };
}

export const isServing = (state: SharedRuntimeState) => state.runtime.state === 'running' && !state.checkDue;

export function refOf(state: SharedRuntimeState): SharedRuntimeRef {
  return { sessionId: state.sessionId, runtimeId: state.runtime.id ?? '', url: state.runtime.url ?? '', generation: state.runtime.generation };
}

export function toStatus(state: SharedRuntimeState): SharedRuntimeStatus {
  return {
    name: state.name,
    sessionId: state.sessionId,
    runtimeState: state.runtime.state,
    runtimeId: state.runtime.id,
    ...(state.runtime.state === 'running' && { url: state.runtime.url }),
    generation: state.runtime.generation,
    users: state.users.length,
    ...state.counters,
    lastError: state.failedAt?.message,
  };
}
