// Builds the activities' dependencies from plain settings: one Runtime API client, one
// shared dispatcher for every runtime's agent server, and the worker's session-key
// cache. The worker, the tests and the benchmarks all wire activities through here.
import type { Config } from '../config.js';
import { RuntimeApiClient, createAgentServerDispatcher } from '../runtime-api/index.js';
import type { ActivityDeps } from './deps.js';
import { createActivities } from './index.js';
import { SessionKeyCache } from './session-keys.js';

export interface ActivitySettings {
  readonly runtimeApiUrl: string;
  readonly runtimeApiKey: string;
  /** @default 180 s */
  readonly runtimeApiTimeoutMs?: number;
  /** @default 600 s */
  readonly agentTimeoutMs?: number;
  /** Connections per origin; undefined or 0 = unbounded. */
  readonly connections?: number;
  /** @default 'local/agent-server:latest' */
  readonly runtimeImage?: string;
  /** @default 'shell' */
  readonly llmModel?: string;
  readonly llmApiKey?: string;
}

/** The settings configuration gives, for the Runtime API at `endpoint`. */
export function activitySettingsFrom(config: Config, endpoint: { url: string; apiKey: string }): ActivitySettings {
  return {
    runtimeApiUrl: endpoint.url,
    runtimeApiKey: endpoint.apiKey,
    runtimeApiTimeoutMs: config.RUNTIME_API_TIMEOUT,
    agentTimeoutMs: config.AGENT_SERVER_TIMEOUT,
    connections: config.HTTP_CONNECTIONS,
    runtimeImage: config.RUNTIME_IMAGE,
    llmModel: config.LLM_MODEL,
    llmApiKey: config.LLM_API_KEY,
  };
}

export function buildActivities(settings: ActivitySettings) {
  const connections = settings.connections ? settings.connections : null;
  const runtimeApi = new RuntimeApiClient({
    baseUrl: settings.runtimeApiUrl,
    apiKey: settings.runtimeApiKey,
    timeoutMs: settings.runtimeApiTimeoutMs,
    connections,
  });
  const agentDispatcher = createAgentServerDispatcher({ timeoutMs: settings.agentTimeoutMs, connections });
  const deps: ActivityDeps = {
    runtimeApi,
    agentDispatcher,
    sessionKeys: new SessionKeyCache(runtimeApi),
    runtimeImage: settings.runtimeImage ?? 'local/agent-server:latest',
    agent: {
      kind: 'Agent',
      llm: { model: settings.llmModel ?? 'shell', api_key: settings.llmApiKey ?? null, usage_id: 'agent' },
      tools: [{ name: 'terminal' }],
    },
  };
  return {
    activities: createActivities(deps),
    runtimeApi,
    close: async () => {
      await runtimeApi.close();
      await agentDispatcher.close();
    },
  };
}
