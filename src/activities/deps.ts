// What the activities are built from: injected clients and settings, so tests and the
// worker wire real servers in one place and nothing is created at import time.
import type { Dispatcher } from 'undici';
import type { AgentSpec, RuntimeApiClient } from '../runtime-api/index.js';
import type { SessionKeyCache } from './session-keys.js';

export interface ActivityDeps {
  readonly runtimeApi: RuntimeApiClient;
  /** One shared undici Agent for every runtime's agent server. */
  readonly agentDispatcher: Dispatcher;
  readonly sessionKeys: SessionKeyCache;
  /** Image named in POST /start. */
  readonly runtimeImage: string;
  /** The agent to create in each runtime; its LLM key comes from configuration, never from history. */
  readonly agent: AgentSpec;
}
