// How a run takes its policy from the deployment rather than from the client that started
// it. The workflow cannot read the worker's environment, so the policy comes as the answer
// of the first step a run takes anyway: a local activity in its first workflow task, which
// also says whether the user has an admission limit (the question that step asked alone
// before). No workflow task or round trip is added to the start, and the answer is recorded
// in history, so a replay on any worker gets the same policy. Runs started before this
// patch keep the policy their client sent.
import { ApplicationFailure, patched, proxyLocalActivities } from '@temporalio/workflow';
import type { ConversationActivities } from '../activities/index.js';
import { ConversationErrorType } from '../failure-types.js';
import type { PolicyOverrides } from './policy.js';
import { DEFAULT_POLICY, recordRefusal } from './state.js';
import type { ConversationPolicy, ConversationState } from './state.js';
import { MESSAGE_MAX_BYTES_CEILING, jsonTextBytes } from './validation.js';

export const DEPLOYMENT_POLICY_PATCH = 'deployment-policy';

const { startSettings } = proxyLocalActivities<ConversationActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '2s' },
});

/**
 * The policy of a run until the deployment's arrives (within the first workflow task). Only
 * the message limit is read that early, by the validator of a message sent with the start:
 * held to the wire's ceiling only, so no message the deployment accepts is refused; one
 * over the deployment's limit is then refused visibly (`refuseOversized`).
 */
const PENDING_POLICY: ConversationPolicy = { ...DEFAULT_POLICY, maxMessageBytes: MESSAGE_MAX_BYTES_CEILING };

/** The policy a new run begins with: pending the deployment's since the patch, else the client's as before. */
export function initialPolicy(clientPolicy: Partial<ConversationPolicy> | undefined): Pick<ConversationState, 'policy' | 'policyPending' | 'notice'> {
  if (!patched(DEPLOYMENT_POLICY_PATCH)) return { policy: { ...DEFAULT_POLICY, ...clientPolicy } };
  // A client from before this change sends its whole environment's policy: not an override.
  const notice = clientPolicy ? 'the starting client sent a policy of its own (a client older than the deployment policy): ignored; the deployment\'s applies' : undefined;
  return { policy: PENDING_POLICY, policyPending: true, ...(notice && { notice }) };
}

/**
 * Takes the deployment's policy with the client's allowed overrides; returns whether the
 * user has an admission limit. Throws the PolicyOverrideError failure when the client set a
 * setting the deployment does not let it set: nothing is provisioned then.
 */
export async function adoptDeploymentPolicy(state: ConversationState, overrides: PolicyOverrides | undefined): Promise<boolean> {
  const settings = await startSettings({ userId: state.userId, ...(overrides && { overrides }) });
  if (settings.refusal) {
    state.refusal = { message: settings.refusal, refused: settings.refused };
    throw refusedStart(state);
  }
  state.policy = settings.policy;
  state.policyPending = undefined;
  refuseOversized(state);
  return settings.admissionLimited;
}

/** The failure the start's waiting handlers answer with, when the start was refused for its overrides. */
export function refusedStart(state: ConversationState): ApplicationFailure | undefined {
  const refusal = state.refusal;
  if (!refusal) return undefined;
  return ApplicationFailure.create({ type: ConversationErrorType.PolicyOverrideRefused, message: refusal.message, nonRetryable: true, details: [{ refused: refusal.refused }] });
}

/** Messages that came with the start before the deployment's limit was known, and exceed it: refused, each reported. */
function refuseOversized(state: ConversationState): void {
  const limit = state.policy.maxMessageBytes;
  for (const message of state.queue.filter((queued) => jsonTextBytes(queued.text) > limit)) {
    const reason = `the message text is ${jsonTextBytes(message.text)} bytes as sent; this deployment's limit is ${limit} bytes (MESSAGE_MAX_BYTES)`;
    state.queue.splice(state.queue.indexOf(message), 1);
    recordRefusal(state, message.messageId, reason, 'deployment');
  }
}
