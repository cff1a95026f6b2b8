// Activities of per-user admission. `requestSlot` (run by the conversation workflow before
// it provisions) asks the user's admission workflow for a slot by update-with-start, so the
// first request also creates it; the update ID is the claim, and the admission workflow
// answers a repeated claim with the same decision, so a retry after a worker died
// mid-request can neither take a second slot nor lose the first. `checkSlotHolders` lets
// the admission workflow see its holders: which are still open (a terminated workflow
// cannot give its slot back, so its runtime is paused here and the slot reclaimed),
// and which have a turn running.
import { activityInfo, getClient, log } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { ConversationErrorType } from '../failure-types.js';
import { admissionWorkflowId, requestSlotUpdate } from '../workflows/admission/messages.js';
import type { AdmissionSettings, SlotAnswer, SlotClaim, SlotRequest } from '../workflows/admission/messages.js';
import { claimKey } from '../workflows/admission/state.js';
import type { userAdmissionWorkflow } from '../workflows/admission/index.js';
import { infoQuery } from '../workflows/messages.js';
import type { ActivityDeps } from './deps.js';

/** The deployment's admission settings and the users that have their own. */
export interface AdmissionConfig {
  readonly defaults: AdmissionSettings;
  readonly overrides?: Readonly<Record<string, Partial<AdmissionSettings>>>;
}

/** No limit: what code that wires activities by hand gets unless it asks for one. */
export const NO_ADMISSION_LIMIT: AdmissionConfig = { defaults: { limit: 0, policy: 'evict' } };

export function admissionSettingsFor(config: AdmissionConfig, userId: string): AdmissionSettings {
  return { ...config.defaults, ...config.overrides?.[userId] };
}

export interface HolderReport {
  readonly conversationId: string;
  /** False once the holder's workflow has ended, whatever way: its slot is then given back. */
  readonly open: boolean;
  /** A turn runs, messages wait or the runtime is being provisioned (unknown counts as busy). */
  readonly busy: boolean;
  readonly lastActivityAt: number;
}

export function admissionActivities(deps: ActivityDeps) {
  return {
    /**
     * Whether the user has a limit at all. Run as a local activity: it only reads the
     * worker's settings, so a user without a limit costs the workflow no round trip.
     */
    async admissionLimited(input: { userId: string }): Promise<{ limited: boolean }> {
      return { limited: admissionSettingsFor(deps.admission, input.userId).limit > 0 };
    },

    async requestSlot(input: { userId: string; claim: SlotClaim; purpose: SlotRequest['purpose'] }): Promise<SlotAnswer> {
      const settings = admissionSettingsFor(deps.admission, input.userId);
      if (settings.limit === 0) return { kind: 'unlimited' };
      const { taskQueue } = activityInfo();
      const workflowId = admissionWorkflowId(taskQueue, input.userId);
      const startWorkflowOperation = new WithStartWorkflowOperation<typeof userAdmissionWorkflow>('userAdmissionWorkflow', {
        workflowId,
        taskQueue,
        args: [{ userId: input.userId, settings }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        staticSummary: `admission of user ${input.userId}`,
      });
      try {
        const answer = await getClient().workflow.executeUpdateWithStart(requestSlotUpdate, {
          args: [{ ...input.claim, purpose: input.purpose, settings }],
          updateId: claimKey(input.claim),
          startWorkflowOperation,
        });
        // The conversation signals this workflow when it gives the slot back: it keeps the ID it was answered from.
        return answer.kind === 'unlimited' ? answer : { ...answer, admissionWorkflowId: workflowId };
      } catch (error) {
        const failure = error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure ? error.cause : undefined;
        if (failure?.type === ConversationErrorType.LimitReached) {
          throw ApplicationFailure.create({ type: failure.type, message: failure.message, nonRetryable: true, details: failure.details ? [...failure.details] : [] });
        }
        throw error;
      }
    },

    /** `activity`: also ask each open holder whether a turn runs (a query, which needs a worker to answer); else only whether it is open (describe, answered by the server). */
    async checkSlotHolders(input: { holders: SlotClaim[]; activity: boolean }): Promise<HolderReport[]> {
      return Promise.all(input.holders.map((claim) => checkHolder(deps, claim.conversationId, input.activity)));
    },
  };
}

async function checkHolder(deps: ActivityDeps, conversationId: string, activity: boolean): Promise<HolderReport> {
  const handle = getClient().workflow.getHandle(conversationId);
  let open: boolean;
  try {
    open = (await handle.describe()).status.name === 'RUNNING';
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    open = false;
  }
  if (!open) {
    await pauseOrphanedRuntime(deps, conversationId);
    return { conversationId, open: false, busy: false, lastActivityAt: 0 };
  }
  if (!activity) return { conversationId, open: true, busy: true, lastActivityAt: Date.now() };
  try {
    const info = await handle.query(infoQuery);
    const busy = info.queued > 0 || info.turnMessageId !== undefined || info.status === 'STARTING';
    return { conversationId, open: true, busy, lastActivityAt: Date.parse(info.lastActivityAt) };
  } catch (error) {
    // A query can fail for a moment (e.g. it reached a worker that just died): not a reason to evict.
    log.warn('could not read a slot holder; counting it busy', { conversationId, error: String(error) });
    return { conversationId, open: true, busy: true, lastActivityAt: Date.now() };
  }
}

/** A workflow that ended without giving its slot back (terminated) left its runtime running: pause it, so the slot is really free. */
async function pauseOrphanedRuntime(deps: ActivityDeps, sessionId: string): Promise<void> {
  const session = await deps.runtimeApi.getSession(sessionId);
  if (session?.status !== 'running' && session?.status !== 'starting') return;
  log.info('pausing the runtime of a conversation that ended holding a slot', { sessionId, runtimeId: session.runtime_id });
  await deps.runtimeApi.pause(session.runtime_id);
}
