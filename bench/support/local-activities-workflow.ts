// Workflow-side experiment, bundled only by the benchmark (setup.ts swaps it in for
// src/workflows/activities.ts): the named activities run as local activities — inside
// the workflow task that schedules them — instead of costing a workflow task each.
import { proxyLocalActivities } from '@temporalio/workflow';
import type { ConversationActivities } from '../../src/activities/index.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../../src/failure-types.js';
import { activitiesFor as remoteActivitiesFor } from '../../src/workflows/activities.js';
import type { ConversationPolicy } from '../../src/workflows/state.js';

export function withLocalActivities(policy: ConversationPolicy, names: readonly (keyof ConversationActivities)[]) {
  const remote = remoteActivitiesFor(policy);
  const local = proxyLocalActivities<ConversationActivities>({
    startToCloseTimeout: policy.initTimeoutMs + 30_000,
    retry: { initialInterval: '200ms', maximumInterval: '5s', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
  });
  return { ...remote, ...Object.fromEntries(names.map((name) => [name, local[name]])) } as typeof remote;
}
