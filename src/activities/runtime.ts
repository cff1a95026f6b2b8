// Activities on the runtime (control plane): find or create the conversation's runtime,
// wait until it is alive, pause it, stop it. The session ID is the conversation ID, so
// the Runtime API itself can tell us which runtime a conversation already has.
import { cancellationSignal, log } from '@temporalio/activity';
import { BadRequestError, NotFoundError } from '../runtime-api/index.js';
import type { ActivityDeps } from './deps.js';
import { lastProgress, progress } from './heartbeats.js';
import { runtimeSteps } from './runtime-steps.js';
import type { EnsuredRuntime, RuntimeRef } from './runtime-steps.js';
import { keepTranscript } from './transcript-keeper.js';

export type { EnsuredRuntime, RuntimeRef } from './runtime-steps.js';

export function runtimeActivities(deps: ActivityDeps) {
  const { runtimeApi, sessionKeys } = deps;
  const { ensure, pollUntilAlive } = runtimeSteps(deps);

  return {
    /**
     * Adopt a running runtime, resume a paused one, else start one. `environment`: more for a
     * runtime this starts (a shared runtime's run limit), over the deployment's.
     */
    async ensureRuntime(input: { sessionId: string; environment?: Readonly<Record<string, string>> }): Promise<EnsuredRuntime> {
      return ensure(input.sessionId, cancellationSignal(), input.environment);
    },

    /** Polls until the pod is ready and the agent server answers /alive; heartbeats between polls. */
    async waitUntilAlive(input: RuntimeRef & { timeoutMs: number }): Promise<{ waitedMs: number }> {
      const startedAt = lastProgress<{ startedAt?: number }>()?.startedAt ?? Date.now();
      await pollUntilAlive(input, { startedAt, budgetMs: input.timeoutMs }, (podStatus) => progress({ startedAt, podStatus }));
      return { waitedMs: Date.now() - startedAt };
    },

    /**
     * False when there was nothing to pause: the runtime is gone (404) or already stopped
     * or failed (409). That is a state for the workflow to record, never an error.
     */
    async pauseRuntime(input: { runtimeId: string }): Promise<{ paused: boolean }> {
      await keepTranscript(deps, input.runtimeId);
      try {
        await runtimeApi.pause(input.runtimeId, { signal: cancellationSignal() });
        return { paused: true };
      } catch (error) {
        if (error instanceof NotFoundError || (error instanceof BadRequestError && error.status === 409)) {
          log.info('nothing to pause: the runtime is gone', { runtimeId: input.runtimeId, status: error.status });
          return { paused: false };
        }
        throw error;
      }
    },

    /** Idempotent: a runtime that is already gone (404) or stopped (409) counts as stopped. */
    async stopRuntime(input: { sessionId: string; runtimeId: string }): Promise<void> {
      await keepTranscript(deps, input.runtimeId, input.sessionId);
      try {
        await runtimeApi.stop(input.runtimeId, { signal: cancellationSignal() });
      } catch (error) {
        if (!(error instanceof BadRequestError && error.status === 409)) throw error;
      }
      sessionKeys.forget(input.sessionId);
    },

    /** Compensation: stops whatever runtime the session has, even one whose start timed out before we learned its ID. */
    async stopSessionRuntime(input: { sessionId: string }): Promise<{ stopped: string | null }> {
      const session = await runtimeApi.getSession(input.sessionId, { signal: cancellationSignal() });
      sessionKeys.forget(input.sessionId);
      if (!session || session.status === 'stopped') return { stopped: null };
      await keepTranscript(deps, session.runtime_id, input.sessionId);
      await runtimeApi.stop(session.runtime_id, { signal: cancellationSignal() });
      return { stopped: session.runtime_id };
    },
  };
}
