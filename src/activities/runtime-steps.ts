// The steps of bringing a runtime up, shared by the one-step activities (runtime.ts) and
// the activity that provisions in one go (provisioning.ts): ensure the session has a runtime
// (adopt, resume or start one), and poll until it is alive.
import { cancellationSignal, log, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AgentServerClient, NotFoundError, TERMINAL_POD_STATUSES } from '../runtime-api/index.js';
import type { PodStatus } from '../runtime-api/index.js';
import { ActivityErrorType } from '../failure-types.js';
import type { ActivityDeps } from './deps.js';

export interface RuntimeRef {
  readonly sessionId: string;
  readonly runtimeId: string;
  readonly url: string;
}

export interface EnsuredRuntime extends RuntimeRef {
  /** adopted: was running; resumed: was paused; started: a new runtime. */
  readonly action: 'adopted' | 'resumed' | 'started';
}

type Environment = Readonly<Record<string, string>>;

/** The init timeout, counted from when the wait for this runtime began (kept across retries). */
export interface WaitBudget {
  readonly startedAt: number;
  readonly budgetMs: number;
}

/**
 * The first wait between two looks at a runtime that is not ready yet; each next one is half
 * again as long, up to 2 s. Fast sandboxes resume in tens of ms: with the first wait at
 * 100 ms, a resume the runtime did in 20 ms was seen at 100 ms (measured in bench part 4, when
 * the look came straight after POST /resume). A few more looks in the first second cost the
 * Runtime API little.
 */
const FIRST_POLL_DELAY_MS = 20;

export function runtimeSteps(deps: ActivityDeps) {
  const { runtimeApi, sessionKeys } = deps;

  async function start(sessionId: string, signal: AbortSignal | undefined, environment?: Environment): Promise<EnsuredRuntime> {
    const started = await runtimeApi.start({ image: deps.runtimeImage, session_id: sessionId, environment: { ...deps.runtimeEnvironment, ...environment } }, { signal });
    sessionKeys.remember(sessionId, started.runtime_id, started.session_api_key);
    return { sessionId, runtimeId: started.runtime_id, url: started.url, action: 'started' };
  }

  /**
   * Adopt a running runtime, resume a paused one, else start one (the seed's _check_existing_runtime).
   * Without `signal`, cancellation cannot cut it short (see provisioning.ts). `environment`:
   * more for a runtime this starts (a shared runtime's run limit), over the deployment's.
   */
  async function ensure(sessionId: string, signal: AbortSignal | undefined, environment?: Environment): Promise<EnsuredRuntime> {
    const session = await runtimeApi.getSession(sessionId, { signal });
    if (session?.status === 'running' || session?.status === 'starting') {
      sessionKeys.remember(sessionId, session.runtime_id, session.session_api_key);
      return { sessionId, runtimeId: session.runtime_id, url: session.url, action: 'adopted' };
    }
    if (session?.status === 'paused') {
      try {
        await runtimeApi.resume(session.runtime_id, { signal });
        sessionKeys.remember(sessionId, session.runtime_id, session.session_api_key);
        return { sessionId, runtimeId: session.runtime_id, url: session.url, action: 'resumed' };
      } catch (error) {
        // As in the seed: a paused runtime that will not resume counts as absent.
        log.warn('resume failed; starting a new runtime', { sessionId, error: String(error) });
      }
    }
    return start(sessionId, signal, environment);
  }

  /**
   * Polls until the pod is ready and the agent server answers /alive, or the deadline
   * passes; `onWaiting` is called with each reading before the next wait (to heartbeat it).
   */
  async function pollUntilAlive(ref: RuntimeRef, budget: WaitBudget, onWaiting: (podStatus: string) => void): Promise<void> {
    const deadline = budget.startedAt + budget.budgetMs;
    let delayMs = FIRST_POLL_DELAY_MS;
    let lastStatus: PodStatus | string = 'unknown';
    for (;;) {
      let runtime;
      try {
        runtime = await runtimeApi.getRuntime(ref.runtimeId, { signal: cancellationSignal() });
      } catch (error) {
        // Gone (the Runtime API restarted, or someone stopped it): provisioning starts another.
        if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(`runtime ${ref.runtimeId} is gone`, ActivityErrorType.RuntimeGone);
        // A 5xx, a refused connection or a timeout is a reading we did not get: keep waiting.
        if (!isRetryable(error) || cancellationSignal().aborted) throw error;
        log.warn('runtime status unreadable; still waiting', { runtimeId: ref.runtimeId, error: String(error) });
        runtime = { pod_status: 'unreadable', restart_reasons: [] as string[] };
      }
      lastStatus = runtime.pod_status;
      if ((TERMINAL_POD_STATUSES as readonly string[]).includes(lastStatus)) {
        throw ApplicationFailure.nonRetryable(
          `runtime ${ref.runtimeId} is ${lastStatus}` + (runtime.restart_reasons?.length ? ` (${runtime.restart_reasons.join('; ')})` : ''),
          ActivityErrorType.RuntimeUnavailable,
        );
      }
      if (lastStatus === 'ready' && (await agentAlive(ref))) return;
      // The last wait is cut to the deadline and followed by one more look, so the
      // runtime gets the whole init timeout, not up to one backoff step less.
      const left = deadline - Date.now();
      if (left <= 0) break;
      onWaiting(lastStatus);
      await sleep(Math.min(delayMs, left));
      delayMs = Math.min(delayMs * 1.5, 2_000);
    }
    throw ApplicationFailure.nonRetryable(
      `runtime ${ref.runtimeId} was not alive after ${budget.budgetMs} ms (pod_status ${lastStatus})`,
      ActivityErrorType.RuntimeInitTimeout,
    );
  }

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

  return { ensure, pollUntilAlive };
}
