// Activity proxies with the options each kind of step needs. Every activity heartbeats
// while it runs (activities/heartbeats.ts), so each has a heartbeat timeout of a few
// seconds: a worker that dies is noticed that fast and another retries the step, instead
// of waiting out a start-to-close timeout of minutes. Provisioning is bounded by the
// init timeout; runtime control (pause/stop) retries long, because a stop that gives up
// leaks a runtime; message steps give up quickly on runtime trouble so the workflow can
// recover (resume or replace the runtime) instead of retrying blindly.
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { ConversationActivities } from '../activities/index.js';
import { ActivityErrorType, NON_RETRYABLE_ERROR_TYPES, RUNTIME_TROUBLE_TYPES } from '../failure-types.js';
import type { ConversationPolicy } from './state.js';

/** A runtime that vanishes while we wait for it is provisioned anew, this many times at most. */
export const GONE_RETRIES = 2;

/** Ten beats of the worker's 1 s heartbeat; the SDK sends one at most every 80% of this. */
const HEARTBEAT_TIMEOUT = '10s';

export function activitiesFor(policy: ConversationPolicy) {
  const provisioning = proxyActivities<ConversationActivities>({
    startToCloseTimeout: '3m',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    scheduleToCloseTimeout: policy.initTimeoutMs + 60_000,
    retry: { initialInterval: '200ms', maximumInterval: '5s', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
  });
  // A runtime that cannot be had, did not come up in time or vanished is not tried again here: the workflow decides.
  const provisioningRetry = {
    initialInterval: '200ms',
    maximumInterval: '5s',
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, ActivityErrorType.RuntimeUnavailable, ActivityErrorType.RuntimeInitTimeout, ActivityErrorType.RuntimeGone],
  };
  // Resumes from its heartbeat on retry, so the init timeout bounds all attempts together.
  const waiting = proxyActivities<ConversationActivities>({
    startToCloseTimeout: policy.initTimeoutMs + 30_000,
    scheduleToCloseTimeout: policy.initTimeoutMs + 60_000,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: provisioningRetry,
  });
  // Ensure + wait + create in one (activities/provisioning.ts): each runtime it tries gets the
  // init timeout, counted across retries from its heartbeat, and it may try GONE_RETRIES more.
  // A cancelled workflow waits for the activity to end (the SDK's default sends TRY_CANCEL,
  // which settles at once): the activity lets a POST /start in flight finish first, so the
  // compensation that follows finds the runtime it created.
  const runtimesTried = GONE_RETRIES + 1;
  const provisioningInOne = proxyActivities<ConversationActivities>({
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    startToCloseTimeout: runtimesTried * (policy.initTimeoutMs + 30_000),
    scheduleToCloseTimeout: runtimesTried * (policy.initTimeoutMs + 60_000),
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: provisioningRetry,
  });
  const control = proxyActivities<ConversationActivities>({
    startToCloseTimeout: '3m',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '500ms', maximumInterval: '30s', maximumAttempts: 50, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
  });
  const messageRetry = {
    initialInterval: '200ms',
    maximumInterval: '5s',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, ...RUNTIME_TROUBLE_TYPES],
  };
  // Delivery may wait a long time for run capacity on a busy agent server (429), heartbeating.
  const messaging = proxyActivities<ConversationActivities>({ startToCloseTimeout: '30m', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: messageRetry });
  const brief = proxyActivities<ConversationActivities>({
    startToCloseTimeout: '30s',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { ...messageRetry, maximumAttempts: 3 },
  });
  // Following a turn only reads, so an interrupted turn need not wait for the poll to acknowledge.
  const turns = proxyActivities<ConversationActivities>({
    startToCloseTimeout: '24h',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    retry: messageRetry,
  });

  return {
    ensureRuntime: provisioning.ensureRuntime,
    createAgentConversation: provisioning.createAgentConversation,
    waitUntilAlive: waiting.waitUntilAlive,
    provisionRuntime: provisioningInOne.provisionRuntime,
    pauseRuntime: control.pauseRuntime,
    stopRuntime: control.stopRuntime,
    stopSessionRuntime: control.stopSessionRuntime,
    deliverMessage: messaging.deliverMessage,
    deleteAgentConversation: messaging.deleteAgentConversation,
    interruptAgent: brief.interruptAgent,
    awaitTurn: turns.awaitTurn,
    // Attaching waits while the owner provisions the shared runtime, heartbeating.
    attachSharedRuntime: provisioning.attachSharedRuntime,
    pickSharedRuntime: provisioning.pickSharedRuntime,
  };
}

export type WorkflowActivities = ReturnType<typeof activitiesFor>;
