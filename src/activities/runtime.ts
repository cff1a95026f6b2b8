// Activities on the runtime (control plane): find or create the conversation's runtime,
// wait until it is alive, pause it, stop it. The session ID is the conversation ID, so
// the Runtime API itself can tell us which runtime a conversation already has.
import { activityInfo, cancellationSignal, log, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AgentServerClient, BadRequestError, NotFoundError, TERMINAL_POD_STATUSES } from '../runtime-api/index.js';
import type { PodStatus } from '../runtime-api/index.js';
import type { ActivityDeps } from './deps.js';
import { ActivityErrorType } from '../failure-types.js';
import { progress } from './heartbeats.js';
import { keepTranscript } from './transcript-keeper.js';

export interface RuntimeRef {
  readonly sessionId: string;
  readonly runtimeId: string;
  readonly url: string;
}

export interface EnsuredRuntime extends RuntimeRef {
  /** adopted: was running; resumed: was paused; started: a new runtime. */
  readonly action: 'adopted' | 'resumed' | 'started';
}

export function runtimeActivities(deps: ActivityDeps) {
  const { runtimeApi, sessionKeys } = deps;

  async function start(sessionId: string, environment?: Readonly<Record<string, string>>): Promise<EnsuredRuntime> {
    const started = await runtimeApi.start(
      { image: deps.runtimeImage, session_id: sessionId, environment: { ...deps.runtimeEnvironment, ...environment } },
      { signal: cancellationSignal() },
    );
    sessionKeys.remember(sessionId, started.runtime_id, started.session_api_key);
    return { sessionId, runtimeId: started.runtime_id, url: started.url, action: 'started' };
  }

  return {
    /** Adopt a running runtime, resume a paused one, else start one (the seed's _check_existing_runtime). */
    /** `environment`: more for a runtime this starts (a shared runtime's run limit), over the deployment's. */
    async ensureRuntime(input: { sessionId: string; environment?: Readonly<Record<string, string>> }): Promise<EnsuredRuntime> {
      const { sessionId } = input;
      const session = await runtimeApi.getSession(sessionId, { signal: cancellationSignal() });
      if (session?.status === 'running' || session?.status === 'starting') {
        sessionKeys.remember(sessionId, session.runtime_id, session.session_api_key);
        return { sessionId, runtimeId: session.runtime_id, url: session.url, action: 'adopted' };
      }
      if (session?.status === 'paused') {
        try {
          await runtimeApi.resume(session.runtime_id, { signal: cancellationSignal() });
          sessionKeys.remember(sessionId, session.runtime_id, session.session_api_key);
          return { sessionId, runtimeId: session.runtime_id, url: session.url, action: 'resumed' };
        } catch (error) {
          // As in the seed: a paused runtime that will not resume counts as absent.
          log.warn('resume failed; starting a new runtime', { sessionId, error: String(error) });
        }
      }
      return start(sessionId, input.environment);
    },

    /** Polls until the pod is ready and the agent server answers /alive; heartbeats between polls. */
    async waitUntilAlive(input: RuntimeRef & { timeoutMs: number }): Promise<{ waitedMs: number }> {
      const details = activityInfo().heartbeatDetails as { startedAt?: number } | undefined;
      const startedAt = details?.startedAt ?? Date.now();
      const deadline = startedAt + input.timeoutMs;
      let delayMs = 100;
      let lastStatus: PodStatus | string = 'unknown';
      for (;;) {
        let runtime;
        try {
          runtime = await runtimeApi.getRuntime(input.runtimeId, { signal: cancellationSignal() });
        } catch (error) {
          // Gone (the Runtime API restarted, or someone stopped it): provisioning starts another.
          if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(`runtime ${input.runtimeId} is gone`, ActivityErrorType.RuntimeGone);
          // A 5xx, a refused connection or a timeout is a reading we did not get: keep waiting.
          if (!isRetryable(error) || cancellationSignal().aborted) throw error;
          log.warn('runtime status unreadable; still waiting', { runtimeId: input.runtimeId, error: String(error) });
          runtime = { pod_status: 'unreadable', restart_reasons: [] as string[] };
        }
        lastStatus = runtime.pod_status;
        if ((TERMINAL_POD_STATUSES as readonly string[]).includes(lastStatus)) {
          throw ApplicationFailure.nonRetryable(
            `runtime ${input.runtimeId} is ${lastStatus}` + (runtime.restart_reasons?.length ? ` (${runtime.restart_reasons.join('; ')})` : ''),
            ActivityErrorType.RuntimeUnavailable,
          );
        }
        if (lastStatus === 'ready' && (await agentAlive(input))) return { waitedMs: Date.now() - startedAt };
        // The last wait is cut to the deadline and followed by one more look, so the
        // runtime gets the whole init timeout, not up to one backoff step less.
        const left = deadline - Date.now();
        if (left <= 0) break;
        progress({ startedAt, podStatus: lastStatus });
        await sleep(Math.min(delayMs, left));
        delayMs = Math.min(delayMs * 1.5, 2_000);
      }
      throw ApplicationFailure.nonRetryable(
        `runtime ${input.runtimeId} was not alive after ${input.timeoutMs} ms (pod_status ${lastStatus})`,
        ActivityErrorType.RuntimeInitTimeout,
      );
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

  function isRetryable(error: unknown): boolean {
    return (error as { retryable?: unknown }).retryable === true;
  }

  async function agentAlive(ref: RuntimeRef): Promise<boolean> {
    const client = new AgentServerClient({ baseUrl: ref.url, dispatcher: deps.agentDispatcher });
    try {
      const probe = AbortSignal.any([cancellationSignal(), AbortSignal.timeout(5_000)]);
      return await client.alive({ signal: probe });
    } catch (error) {
      if (cancellationSignal().aborted) throw error;
      return false;
    }
  }
}
