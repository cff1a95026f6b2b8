// Builds the activities' dependencies from plain settings: one Runtime API client, one
// shared dispatcher for every runtime's agent server, and the worker's session-key
// cache. The worker, the tests and the benchmarks all wire activities through here.
import { tmpdir } from 'node:os';
import type { PayloadCodec } from '@temporalio/common';
import path from 'node:path';
import { BatchStore } from '../batch/store.js';
import { admissionFrom, batchDirFrom, deploymentPolicyFrom } from '../config.js';
import type { Config } from '../config.js';
import { RuntimeApiClient, closeDispatcher, createAgentServerDispatcher } from '../runtime-api/index.js';
import { transcriptDirOf } from '../transcripts.js';
import { DEFAULT_AGENT_TOOLS, startConversationRequest } from './agent-config.js';
import type { AgentSettings } from './agent-config.js';
import type { ActivityDeps } from './deps.js';
import type { SharedRuntimeSettings } from '../workflows/shared-runtime/messages.js';
import { DEFAULT_OVERRIDABLE } from '../workflows/policy.js';
import type { PolicySetting } from '../workflows/policy.js';
import { DEFAULT_POLICY } from '../workflows/state.js';
import type { ConversationPolicy } from '../workflows/state.js';
import { NO_ADMISSION_LIMIT, SHARED_RUNTIME_DEFAULTS, createActivities } from './index.js';
import type { AdmissionConfig } from './index.js';
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
  /** The `environment` sent in POST /start. @default {} */
  readonly runtimeEnvironment?: Readonly<Record<string, string>>;
  /** The agent each runtime runs. @default model 'shell' (the built-in shell agent ignores the LLM), no key */
  readonly agent?: Partial<AgentSettings>;
  /** The policy of the conversations this worker starts (the deployment's). @default DEFAULT_POLICY */
  readonly policy?: Partial<ConversationPolicy>;
  /** Policy settings a starting client may override. @default DEFAULT_OVERRIDABLE (the idle delay) */
  readonly policyOverridable?: readonly PolicySetting[];
  /** Per-user admission. @default no limit (NO_ADMISSION_LIMIT) */
  readonly admission?: AdmissionConfig;
  /** Owners of shared runtimes. @default SHARED_RUNTIME_DEFAULTS (idle 5 min, init 180 s) */
  readonly sharedRuntime?: Partial<SharedRuntimeSettings>;
  /** The batch store's folder (BATCH_DIR). @default <tmpdir>/durable-conversations-batches */
  readonly batchDir?: string;
  /** Where transcripts are kept when a runtime is paused or stopped. @default none kept */
  readonly transcriptDir?: string;
  /** The worker's payload codecs, which seal transcripts at rest (the encryption codec when it is on). @default none: kept in the clear */
  readonly transcriptCodecs?: readonly PayloadCodec[];
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
    runtimeEnvironment: config.RUNTIME_ENVIRONMENT,
    agent: agentSettingsFrom(config),
    policy: deploymentPolicyFrom(config).defaults,
    policyOverridable: deploymentPolicyFrom(config).overridable,
    admission: admissionFrom(config),
    sharedRuntime: { idleDelayMs: config.SHARED_RUNTIME_IDLE_DELAY, initTimeoutMs: config.RUNTIME_INIT_TIMEOUT },
    batchDir: batchDirFrom(config),
    transcriptDir: transcriptDirOf(config.DATA_DIR),
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
  const agent: AgentSettings = { model: 'shell', tools: [...DEFAULT_AGENT_TOOLS], ...settings.agent };
  const agentDispatcher = createAgentServerDispatcher({ timeoutMs: settings.agentTimeoutMs, connections });
  const deps: ActivityDeps = {
    runtimeApi,
    agentDispatcher,
    sessionKeys: new SessionKeyCache(runtimeApi),
    runtimeImage: settings.runtimeImage ?? 'local/agent-server:latest',
    runtimeEnvironment: settings.runtimeEnvironment ?? {},
    policy: { defaults: { ...DEFAULT_POLICY, ...settings.policy }, overridable: settings.policyOverridable ?? DEFAULT_OVERRIDABLE },
    admission: settings.admission ?? NO_ADMISSION_LIMIT,
    sharedRuntime: { ...SHARED_RUNTIME_DEFAULTS, ...settings.sharedRuntime },
    batchStore: new BatchStore(settings.batchDir ?? path.join(tmpdir(), 'durable-conversations-batches')),
    transcriptDir: settings.transcriptDir,
    transcriptCodecs: settings.transcriptCodecs,
    startRequest: (_sessionId, agentConversationId) => startConversationRequest(agent, agentConversationId),
  };
  return {
    activities: createActivities(deps),
    runtimeApi,
    close: async () => {
      await runtimeApi.close();
      await closeDispatcher(agentDispatcher);
    },
  };
}

/** The agent settings configuration gives; the key stays a reference until an activity reads it. */
export function agentSettingsFrom(config: Config): AgentSettings {
  const apiKey = config.LLM_API_KEY_FILE
    ? { file: config.LLM_API_KEY_FILE }
    : config.LLM_API_KEY_ENV
      ? { env: config.LLM_API_KEY_ENV }
      : config.LLM_API_KEY
        ? { value: config.LLM_API_KEY }
        : undefined;
  return {
    model: config.LLM_MODEL,
    baseUrl: config.LLM_BASE_URL,
    apiVersion: config.LLM_API_VERSION,
    timeoutSeconds: config.LLM_TIMEOUT === undefined ? undefined : Math.ceil(config.LLM_TIMEOUT / 1000),
    numRetries: config.LLM_NUM_RETRIES,
    extra: config.LLM_EXTRA,
    apiKey,
    tools: config.AGENT_TOOLS,
    workspaceRoot: config.AGENT_WORKSPACE_ROOT,
    maxIterations: config.AGENT_MAX_ITERATIONS,
  };
}
