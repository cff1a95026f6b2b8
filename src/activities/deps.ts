// What the activities are built from: injected clients and settings, so tests and the
// worker wire real servers in one place and nothing is created at import time.
import type { PayloadCodec } from '@temporalio/common';
import type { Dispatcher } from 'undici';
import type { BatchStore } from '../batch/store.js';
import type { RuntimeApiClient, StartConversationRequest } from '../runtime-api/index.js';
import type { AdmissionConfig } from './admission.js';
import type { SessionKeyCache } from './session-keys.js';
import type { DeploymentPolicy } from '../workflows/policy.js';
import type { SharedRuntimeSettings } from '../workflows/shared-runtime/messages.js';

export interface ActivityDeps {
  readonly runtimeApi: RuntimeApiClient;
  /** One shared undici Agent for every runtime's agent server. */
  readonly agentDispatcher: Dispatcher;
  readonly sessionKeys: SessionKeyCache;
  /** Image named in POST /start. */
  readonly runtimeImage: string;
  /** The `environment` sent in POST /start. */
  readonly runtimeEnvironment: Readonly<Record<string, string>>;
  /** The policy of every conversation this worker starts, and what a starting client may override of it. */
  readonly policy: DeploymentPolicy;
  /** Each user's concurrent-conversation limit and what happens over it. */
  readonly admission: AdmissionConfig;
  /** What the owner of a shared runtime is started with (idle delay before its runtime stops, init timeout). */
  readonly sharedRuntime: SharedRuntimeSettings;
  /** Where batches keep their prompts and results. */
  readonly batchStore: BatchStore;
  /** Where transcripts are kept before a runtime is paused or stopped (transcripts.ts); undefined keeps none. */
  readonly transcriptDir?: string;
  /** The payload codecs of the worker's data converter: with encryption on, transcripts are sealed with the same keys. */
  readonly transcriptCodecs?: readonly PayloadCodec[];
  /** The agent conversation to create in a runtime; secrets are resolved here, in the worker, never in history. */
  startRequest(sessionId: string, agentConversationId: string): Promise<StartConversationRequest>;
}
