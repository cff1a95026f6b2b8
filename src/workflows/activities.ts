// Activity proxies with the options each kind of step needs. Provisioning is bounded
// by the init timeout; runtime control (pause/stop) retries long, because a stop that
// gives up leaks a runtime; message steps give up quickly on runtime trouble so the
// workflow can recover (resume or replace the runtime) instead of retrying blindly.
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { ConversationActivities } from '../activities/index.js';
import { ActivityErrorType, NON_RETRYABLE_ERROR_TYPES, RUNTIME_TROUBLE_TYPES } from '../failure-types.js';
import type { ConversationPolicy } from './state.js';

export function activitiesFor(policy: ConversationPolicy) {
  const provisioning = proxyActivities<ConversationActivities>({
    startToCloseTimeout: '3m',
    scheduleToCloseTimeout: policy.initTimeoutMs + 60_000,
    retry: { initialInterval: '200ms', maximumInterval: '5s', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
  });
  const waiting = proxyActivities<ConversationActivities>({
    startToCloseTimeout: policy.initTimeoutMs + 30_000,
    heartbeatTimeout: '10s',
    retry: {
      initialInterval: '200ms',
      maximumAttempts: 3,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, ActivityErrorType.RuntimeUnavailable, ActivityErrorType.RuntimeInitTimeout],
    },
  });
  const control = proxyActivities<ConversationActivities>({
    startToCloseTimeout: '3m',
    retry: { initialInterval: '500ms', maximumInterval: '30s', maximumAttempts: 50, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
  });
  const messageRetry = {
    initialInterval: '200ms',
    maximumInterval: '5s',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, ...RUNTIME_TROUBLE_TYPES],
  };
  const messaging = proxyActivities<ConversationActivities>({ startToCloseTimeout: '2m', retry: messageRetry });
  // Following a turn only reads, so an interrupted turn need not wait for the poll to acknowledge.
  const turns = proxyActivities<ConversationActivities>({
    startToCloseTimeout: '24h',
    heartbeatTimeout: '10s',
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    retry: messageRetry,
  });

  return {
    ensureRuntime: provisioning.ensureRuntime,
    createAgentConversation: provisioning.createAgentConversation,
    waitUntilAlive: waiting.waitUntilAlive,
    pauseRuntime: control.pauseRuntime,
    stopRuntime: control.stopRuntime,
    stopSessionRuntime: control.stopSessionRuntime,
    deliverMessage: messaging.deliverMessage,
    deleteAgentConversation: messaging.deleteAgentConversation,
    awaitTurn: turns.awaitTurn,
  };
}

export type WorkflowActivities = ReturnType<typeof activitiesFor>;
