// The worker's activities, built from injected clients. Workflows see only the type.
import { admissionActivities } from './admission.js';
import { agentActivities } from './agent.js';
import { batchActivities } from './batch.js';
import { batchTurnActivities } from './batch-turns.js';
import type { ActivityDeps } from './deps.js';
import { translated } from './failures.js';
import { withHeartbeats } from './heartbeats.js';
import { provisioningActivities } from './provisioning.js';
import { runtimeActivities } from './runtime.js';
import { sharedRuntimeActivities } from './shared-runtime.js';
import { startSettingsActivities } from './start-settings.js';

export function createActivities(deps: ActivityDeps) {
  const all = {
    ...runtimeActivities(deps),
    ...agentActivities(deps),
    ...provisioningActivities(deps),
    ...admissionActivities(deps),
    ...startSettingsActivities(deps),
    ...sharedRuntimeActivities(deps),
    ...batchActivities(deps),
    ...batchTurnActivities(deps),
  };
  return Object.fromEntries(Object.entries(all).map(([name, fn]) => [name, withHeartbeats(translated(fn as (...args: unknown[]) => Promise<unknown>))])) as typeof all;
}

export type ConversationActivities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps.js';
export type { AdmissionConfig } from './admission.js';
export { NO_ADMISSION_LIMIT, admissionSettingsFor } from './admission.js';
export { SessionKeyCache } from './session-keys.js';
export { agentConversationIdFor } from './agent.js';
export { SHARED_RUNTIME_DEFAULTS } from './shared-runtime.js';
