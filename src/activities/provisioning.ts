// Bringing a runtime up in one activity: ensure the session's runtime (adopt, resume or
// start), wait until it is alive, create the agent conversation. One activity instead of
// three saves the workflow two workflow tasks and two activity round trips on the path a
// user waits on (start → ready, and a message to a paused conversation); see
// docs/performance.md. Each step is heartbeated with what it is doing, so the Temporal UI's
// pending activity shows the step, the runtime and its pod status, and a retry (after a
// worker died) carries on from the step's saved progress: the init timeout still counts
// from when the wait for that runtime began, however many attempts it takes.
//
// A message that a paused conversation received can come along (`message`): once the agent
// conversation is there, it is delivered the way deliverMessage delivers, so a resume costs
// one activity and one workflow task fewer. Only into the agent conversation the workflow
// already delivered to (found, not created, holding at least the user messages the workflow
// counted): there the workflow's count tells a retry whether an earlier attempt posted the
// message, whatever heartbeat details were lost with a dead worker. A new agent conversation
// (a replaced runtime) gets it from deliverMessage, as before. Delivery is best effort: if it
// fails or the agent server has no run capacity, provisioning still succeeds, reports no
// delivery and the workflow's count, and deliverMessage takes over from there.
import { CancelledFailure } from '@temporalio/common';
import { cancellationSignal, log } from '@temporalio/activity';
import { ActivityErrorType } from '../failure-types.js';
import { agentActivities, agentCaller, attemptDelivery } from './agent.js';
import type { Delivery, DeliveryAttempt } from './agent.js';
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
  /** A queued message to deliver once the agent conversation is there (a resume's). */
  readonly message?: { readonly messageId: string; readonly text: string; readonly userMessagesBefore: number };
}

export interface ProvisionedRuntime extends EnsuredRuntime {
  readonly agentConversationId: string;
  /** User messages the agent conversation already holds (0 when it was created now); when `message` was delivered or tried here, the workflow's count from before it. */
  readonly userMessages: number;
  /** `message`'s delivery, when it was made here. */
  readonly delivery?: Delivery;
  /** Runtimes that vanished while we waited for them and were replaced. */
  readonly replacedWhileStarting: number;
  /** Time per step, for the UI and the benchmarks: the runtime's own part is ensure + alive. */
  readonly stepsMs: { readonly ensure: number; readonly alive: number; readonly agent: number; readonly deliver?: number };
}

/** Heartbeat details: visible in the UI while the activity runs, and read back by a retry. */
interface ProvisionProgress {
  readonly step: 'ensure runtime' | 'wait until alive' | 'create agent conversation' | 'deliver message';
  readonly gone: number;
  readonly runtimeId?: string;
  readonly podStatus?: string;
  /** When the wait for `runtimeId` began: its init timeout counts from here. */
  readonly waitStartedAt?: number;
}

export function provisioningActivities(deps: ActivityDeps) {
  const { ensure, pollUntilAlive } = runtimeSteps(deps);
  const { createAgentConversation } = agentActivities(deps);
  const withAgent = agentCaller(deps);

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
        const agentMs = Date.now() - mark;
        const provisioned = { ...runtime, agentConversationId: agent.agentConversationId, userMessages: agent.userMessages, replacedWhileStarting: gone };
        // Only into the agent conversation the workflow delivered to (see the file's head).
        const carried = input.message;
        if (!carried || agent.created || agent.userMessages < carried.userMessagesBefore) {
          return { ...provisioned, stepsMs: { ensure: ensureMs, alive: aliveMs, agent: agentMs } };
        }
        const before = carried.userMessagesBefore;
        mark = Date.now();
        progress({ step: 'deliver message', gone, runtimeId: runtime.runtimeId, waitStartedAt } satisfies ProvisionProgress);
        const delivery = await deliverCarried({ ...provisioned, ...carried }, { baseline: before, posted: false });
        return { ...provisioned, userMessages: before, delivery, stepsMs: { ensure: ensureMs, alive: aliveMs, agent: agentMs, deliver: Date.now() - mark } };
      }
    },
  };

  /** Best effort (see the file's head): undefined unless the message was delivered and its run started. */
  async function deliverCarried(
    target: EnsuredRuntime & { agentConversationId: string; messageId: string; text: string },
    attempt: DeliveryAttempt,
  ): Promise<Delivery | undefined> {
    try {
      // The workflow's count is the baseline, on every attempt: nothing to save for a retry.
      const outcome = await withAgent(target, (client) => attemptDelivery(client, target, attempt, () => undefined));
      return outcome === 'capacity-full' ? undefined : outcome;
    } catch (error) {
      if (cancellationSignal().aborted) throw error;
      log.warn('could not deliver the message while provisioning; the workflow delivers it next', { messageId: target.messageId, error: String(error) });
      return undefined;
    }
  }

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
