// A whole conversation stack for tests, made of real parts: a local Runtime API with
// real sandboxes (process driver unless told otherwise), a worker on the test Temporal
// server with the real activities, and a ConversationClient over both.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentSettings } from '../../src/activities/agent-config.js';
import type { AdmissionConfig } from '../../src/activities/index.js';
import { buildActivities } from '../../src/activities/wiring.js';
import { ConversationClient } from '../../src/client.js';
import type { ConversationInfo, ConversationPolicy } from '../../src/client.js';
import { createRuntimeApiServer } from '../../src/local-runtime/server.js';
import type { Tracing } from '../../src/observability/tracing.js';
import type { RuntimeApiServer, RuntimeApiServerOptions } from '../../src/local-runtime/server.js';
import { isMessageFrom, messageText } from '../../src/runtime-api/index.js';
import type { RuntimeApiClient } from '../../src/runtime-api/index.js';
import type { SharedRuntimeSettings } from '../../src/workflows/shared-runtime/messages.js';
import type { PolicyOverrides, PolicySetting } from '../../src/workflows/policy.js';
import { transcriptDirOf } from '../../src/transcripts.js';
import { testCodec } from './codec.js';
import { startTestWorker } from './temporal.js';
import type { TestTemporal } from './temporal.js';

export interface ConversationStack {
  readonly conversations: ConversationClient;
  readonly runtimeApi: RuntimeApiClient;
  readonly server: RuntimeApiServer;
  readonly runtimeApiKey: string;
  readonly temporal: TestTemporal;
  readonly dataDir: string;
  close(): Promise<void>;
}

export interface StackOptions {
  /** The worker's policy (the deployment's, as its environment would set it). @default DEFAULT_POLICY */
  readonly policy?: Partial<ConversationPolicy>;
  /** The settings the worker lets a client override (CONVERSATION_POLICY_OVERRIDES). @default DEFAULT_OVERRIDABLE */
  readonly policyOverridable?: readonly PolicySetting[];
  /** Overrides the stack's client asks for in every conversation it starts. @default none */
  readonly policyOverrides?: PolicyOverrides;
  readonly server?: Partial<RuntimeApiServerOptions>;
  /** Start no worker (for tests that start their own, e.g. in a child process). */
  readonly noWorker?: boolean;
  readonly taskQueue?: string;
  /** Another Temporal server than the one `npm test` started. */
  readonly address?: string;
  /** The agent the worker creates in each runtime (model, LLM endpoint, key reference). @default the shell agent */
  readonly agent?: Partial<AgentSettings>;
  /** Per-user admission for the in-process worker. @default no limit */
  readonly admission?: AdmissionConfig;
  /** Owners of shared runtimes (idle delay, init timeout). @default SHARED_RUNTIME_DEFAULTS */
  readonly sharedRuntime?: Partial<SharedRuntimeSettings>;
  /** The batch store folder of the in-process worker. @default a fresh folder in dataDir */
  readonly batchDir?: string;
  /** Keep transcripts at pause and stop in `<dataDir>/transcripts`, as a worker of `npm start` does. @default off */
  readonly keepTranscripts?: boolean;
  /** Seal kept transcripts with the test key, as a worker with payload encryption on does. @default kept in the clear */
  readonly sealTranscripts?: boolean;
  /** Trace the client and the worker (observability/tracing.ts). @default untraced */
  readonly tracing?: Tracing;
}

export async function startConversationStack(options: StackOptions = {}): Promise<ConversationStack> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'dc-stack-'));
  const apiKey = randomBytes(16).toString('hex');
  const server = await createRuntimeApiServer({ apiKey, dataDir, stopGraceMs: 1_000, log: () => {}, ...options.server });
  const wired = buildActivities({
    runtimeApiUrl: server.url,
    runtimeApiKey: apiKey,
    agent: options.agent,
    policy: options.policy,
    policyOverridable: options.policyOverridable,
    admission: options.admission,
    sharedRuntime: options.sharedRuntime,
    batchDir: options.batchDir ?? path.join(dataDir, 'batches'),
    transcriptDir: options.keepTranscripts ? transcriptDirOf(dataDir) : undefined,
    transcriptCodecs: options.sealTranscripts ? [await testCodec()] : undefined,
  });
  const temporal = await startTestWorker(wired.activities, { taskQueue: options.taskQueue, worker: !options.noWorker, address: options.address, tracing: options.tracing });
  const conversations = new ConversationClient({
    client: temporal.client,
    taskQueue: temporal.taskQueue,
    policyOverrides: options.policyOverrides,
    runtimeApi: wired.runtimeApi,
    transcriptDir: transcriptDirOf(dataDir),
  });
  return {
    conversations,
    runtimeApi: wired.runtimeApi,
    server,
    runtimeApiKey: apiKey,
    temporal,
    dataDir,
    close: async () => {
      await temporal.close();
      await wired.close();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls the info query until `predicate` holds; fails with the last info after `timeoutMs`. */
export async function waitForInfo(
  conversations: ConversationClient,
  conversationId: string,
  predicate: (info: ConversationInfo) => boolean,
  timeoutMs = 30_000,
): Promise<ConversationInfo> {
  const deadline = Date.now() + timeoutMs;
  let last: ConversationInfo | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await conversations.info(conversationId);
      if (predicate(last)) return last;
    } catch (error) {
      // A query in the first moments after a worker is SIGKILLed can reach the dead worker's
      // sticky poller and fail (CANCELLED); the next one goes to a live worker.
      lastError = error;
    }
    await sleep(50);
  }
  throw new Error(`condition not reached within ${timeoutMs} ms; last info: ${JSON.stringify(last)}${lastError ? `; last error: ${String(lastError)}` : ''}`);
}

/** The agent's reply texts, in order, read through the runtime. */
export async function agentReplies(conversations: ConversationClient, conversationId: string): Promise<string[]> {
  return (await conversations.allEvents(conversationId)).filter((e) => isMessageFrom(e, 'agent')).map(messageText);
}

/** The user messages the agent server received, in order. */
export async function userMessages(conversations: ConversationClient, conversationId: string): Promise<string[]> {
  return (await conversations.allEvents(conversationId)).filter((e) => isMessageFrom(e, 'user')).map(messageText);
}
