// Bringing a runtime up in one activity: ensure the session's runtime (adopt, resume or
// start), wait until it is alive, create the agent conversation. One activity instead of
// three saves the workflow two workflow tasks and two activity round trips on the path a
// user waits on (start → ready, and a message to a paused conversation); see
// docs/performance.md. Each step is heartbeated with what it is doing, so the Temporal UI's
// pending activity shows the step, the runtime and its pod status, and a retry (after a
// worker died) carries on from the step's saved progress: the init timeout still counts
// from when the wait for that runtime began, however many attempts it takes.
import { CancelledFailure } from '@temporalio/common';
import { cancellationSignal, log } from '@temporalio/activity';
import { ActivityErrorType } from '../failure-types.js';
import { agentActivities } from './agent.js';
import type { ActivityDeps } from './deps.js';
import { lastProgress, progress } from './heartbeats.js';
import { runtimeSteps } from './runtime-steps.js';
import type { EnsuredRuntime } from './runtime-steps.js';

export interface ProvisionInput {
  readonly sessionId: string;
  /** How long one runtime may take to become alive (the init timeout). */
  readonly timeoutMs: number;
  /** A runtime that vanishes while we wait for it is provisioned anew, this many times at most. */
  readonly goneRetries: number;
}

export interface ProvisionedRuntime extends EnsuredRuntime {
  readonly agentConversationId: string;
  /** User messages the agent conversation already holds (0 when it was created now). */
  readonly userMessages: number;
  /** Runtimes that vanished while we waited for them and were replaced. */
  readonly replacedWhileStarting: number;
  /** Time per step, for the UI and the benchmarks: the runtime's own part is ensure + alive. */
  readonly stepsMs: { readonly ensure: number; readonly alive: number; readonly agent: number };
}

/** Heartbeat details: visible in the UI while the activity runs, and read back by a retry. */
interface ProvisionProgress {
  readonly step: 'ensure runtime' | 'wait until alive' | 'create agent conversation';
  readonly gone: number;
  readonly runtimeId?: string;
  readonly podStatus?: string;
  /** When the wait for `runtimeId` began: its init timeout counts from here. */
  readonly waitStartedAt?: number;
}

export function provisioningActivities(deps: ActivityDeps) {
  const { ensure, pollUntilAlive } = runtimeSteps(deps);
  const { createAgentConversation } = agentActivities(deps);

  return {
    async provisionRuntime(input: ProvisionInput): Promise<ProvisionedRuntime> {
      const earlier = lastProgress<ProvisionProgress>();
      let gone = earlier?.gone ?? 0;
      for (;;) {
        progress({ step: 'ensure runtime', gone } satisfies ProvisionProgress);
        let mark = Date.now();
        const runtime = await ensureThroughCancellation(input.sessionId);
        const ensureMs = Date.now() - mark;
        mark = Date.now();
        // A retry after a worker died finds the same runtime (adopted) and keeps its clock.
        const waitStartedAt = earlier?.runtimeId === runtime.runtimeId && earlier.waitStartedAt ? earlier.waitStartedAt : mark;
        const waiting = (podStatus?: string) =>
          progress({ step: 'wait until alive', gone, runtimeId: runtime.runtimeId, podStatus, waitStartedAt } satisfies ProvisionProgress);
        waiting();
        try {
          await pollUntilAlive(runtime, { startedAt: waitStartedAt, budgetMs: input.timeoutMs }, waiting);
        } catch (error) {
          if (gone >= input.goneRetries || failureType(error) !== ActivityErrorType.RuntimeGone) throw error;
          gone++;
          log.warn('runtime vanished while starting; provisioning another', { runtimeId: runtime.runtimeId });
          continue;
        }
        const aliveMs = Date.now() - mark;
        mark = Date.now();
        progress({ step: 'create agent conversation', gone, runtimeId: runtime.runtimeId, waitStartedAt } satisfies ProvisionProgress);
        const agent = await createAgentConversation(runtime);
        return {
          ...runtime,
          agentConversationId: agent.agentConversationId,
          userMessages: agent.userMessages,
          replacedWhileStarting: gone,
          stepsMs: { ensure: ensureMs, alive: aliveMs, agent: Date.now() - mark },
        };
      }
    },
  };

  /**
   * Cancellation must not cut this step short: the workflow stops the session's runtime once
   * this activity has ended, and a POST /start still in flight then would create its runtime
   * after the compensation looked for it (seen: such a runtime leaked). The workflow waits
   * for the cancellation to complete (the activity's default cancellation type), so the
   * call runs to its end (bounded by the Runtime API timeout), and only then does the
   * activity report itself cancelled.
   */
  async function ensureThroughCancellation(sessionId: string): Promise<EnsuredRuntime> {
    const runtime = await ensure(sessionId, undefined);
    if (cancellationSignal().aborted) throw new CancelledFailure('cancelled while the runtime was being ensured');
    return runtime;
  }
}

function failureType(error: unknown): string | undefined {
  return (error as { type?: string }).type;
}
