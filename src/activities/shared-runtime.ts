// Activities of shared runtimes. `attachSharedRuntime` asks the runtime's owner workflow
// for the runtime by update-with-start, so the first conversation also starts the owner;
// attaching is idempotent (the owner keeps a set of conversation IDs), so a retry after
// a worker died mid-call changes nothing. `pickSharedRuntime` chooses the least loaded
// runtime of a pool by asking each owner how many conversations it has.
import { activityInfo, getClient, log } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { attachSignal, attachUpdate, poolMembers, sharedRuntimeStatusQuery, sharedRuntimeWorkflowId } from '../workflows/shared-runtime/messages.js';
import type { AttachRequest, DetachRequest, SharedRuntimeBinding, SharedRuntimeRef, SharedRuntimeSettings, SharedRuntimeStatus } from '../workflows/shared-runtime/messages.js';
import type { sharedRuntimeWorkflow } from '../workflows/shared-runtime/workflow.js';

export const SHARED_RUNTIME_DEFAULTS: SharedRuntimeSettings = { idleDelayMs: 5 * 60_000, initTimeoutMs: 180_000, recheckUsersMs: 60_000 };

export function sharedRuntimeActivities(deps: { readonly sharedRuntime: SharedRuntimeSettings }) {
  return {
    async attachSharedRuntime(input: AttachRequest & { member: string; maxConcurrentRuns?: number }): Promise<SharedRuntimeRef> {
      const { taskQueue } = activityInfo();
      const startWorkflowOperation = new WithStartWorkflowOperation<typeof sharedRuntimeWorkflow>('sharedRuntimeWorkflow', {
        workflowId: sharedRuntimeWorkflowId(taskQueue, input.member),
        taskQueue,
        args: [{ name: input.member, settings: settingsFor(deps.sharedRuntime, input.maxConcurrentRuns) }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        staticSummary: `shared runtime ${input.member}`,
      });
      // The common case, a runtime that runs and is not reported lost: read it, attach by signal.
      if (input.lostRuntimeId === undefined) {
        const running = await runningRuntime(startWorkflowOperation.options.workflowId);
        if (running) {
          await getClient().workflow.signalWithStart<typeof sharedRuntimeWorkflow, [DetachRequest]>('sharedRuntimeWorkflow', {
            ...startWorkflowOperation.options,
            signal: attachSignal,
            signalArgs: [{ conversationId: input.conversationId }],
          });
          return running;
        }
      }
      try {
        return await getClient().workflow.executeUpdateWithStart(attachUpdate, {
          args: [{ conversationId: input.conversationId, lostRuntimeId: input.lostRuntimeId }],
          startWorkflowOperation,
        });
      } catch (error) {
        // The owner could not provision: say so plainly and do not retry here (the conversation decides).
        if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
          throw ApplicationFailure.create({ type: error.cause.type ?? 'SharedRuntimeUnavailableError', message: error.cause.message, nonRetryable: true });
        }
        throw error;
      }
    },

    /** Which of these conversations have no open run any more (terminated ones never detach). */
    async checkSharedRuntimeUsers(input: { conversationIds: string[] }): Promise<{ gone: string[] }> {
      const open = await Promise.all(input.conversationIds.map((id) => isOpen(id)));
      return { gone: input.conversationIds.filter((_, i) => !open[i]) };
    },

    /** The pool member with the fewest conversations (the first on a tie); an owner not running counts as empty. */
    async pickSharedRuntime(input: { binding: SharedRuntimeBinding }): Promise<{ member: string }> {
      const { taskQueue } = activityInfo();
      const members = poolMembers(input.binding);
      if (members.length === 1) return { member: members[0] as string };
      const loads = await Promise.all(members.map((member) => load(taskQueue, member)));
      const least = loads.indexOf(Math.min(...loads));
      return { member: members[least] as string };
    },
  };
}

/** Only a runtime's first start reads these; the binding's run limit goes into its environment. */
function settingsFor(settings: SharedRuntimeSettings, maxConcurrentRuns: number | undefined): SharedRuntimeSettings {
  if (maxConcurrentRuns === undefined) return settings;
  return { ...settings, environment: { ...settings.environment, OH_MAX_CONCURRENT_RUNS: String(maxConcurrentRuns) } };
}

/**
 * The runtime the owner says it runs, or undefined (no owner yet, or provisioning). Should
 * the owner stop it between this read and the attach signal, it starts another for the
 * attached conversation, and the conversation, finding its runtime gone, reports it lost
 * and is given the new one: a rare detour, never a wrong state.
 */
async function runningRuntime(workflowId: string): Promise<SharedRuntimeRef | undefined> {
  let status: SharedRuntimeStatus;
  try {
    status = await getClient().workflow.getHandle(workflowId).query(sharedRuntimeStatusQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    log.info('could not read the shared runtime owner; attaching by update', { workflowId, error: String(error) });
    return undefined;
  }
  if (status.runtimeState !== 'running' || !status.runtimeId || !status.url) return undefined;
  return { sessionId: status.sessionId, runtimeId: status.runtimeId, url: status.url, generation: status.generation };
}

async function isOpen(conversationId: string): Promise<boolean> {
  try {
    return (await getClient().workflow.getHandle(conversationId).describe()).status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

async function load(taskQueue: string, member: string): Promise<number> {
  try {
    return (await getClient().workflow.getHandle(sharedRuntimeWorkflowId(taskQueue, member)).query(sharedRuntimeStatusQuery)).users;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 0;
    // An owner that just ended (a closed run cannot be queried by a worker) is as good as empty.
    log.info('could not read a shared runtime owner; counting it empty', { member, error: String(error) });
    return 0;
  }
}
