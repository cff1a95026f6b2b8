// One scenario per activity of ConversationWorkflow: how to bring a conversation into
// that activity on the first worker and keep it there until the worker is killed. Most
// hold the answer to the HTTP call the activity makes (the server has acted; the worker
// waits), so a retry on the second worker finds nothing left to wait for. awaitTurn has
// work of its own, a 20 s turn, and is killed shortly before the turn ends, so the
// figure is the recovery, not the wait.
import type { WorkflowHandle } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentConversationIdFor } from '../../src/activities/index.js';
import type { FaultOptions } from '../../src/local-runtime/faults.js';
import { AgentServerClient } from '../../src/runtime-api/index.js';
import type { ConversationStack } from '../../test/support/conversations.js';
import { waitForInfo } from '../../test/support/conversations.js';
import type { FaultProxy } from '../../test/support/fault-proxy.js';
import { postsMessage } from '../../test/support/fault-proxy.js';
import { insideActivity } from '../../test/support/activity-history.js';

export interface Rig {
  readonly id: string;
  readonly stack: ConversationStack;
  readonly handle: WorkflowHandle;
  /** In front of the runtimes (agent servers): `publicUrl` of the local Runtime API. */
  readonly runtimeProxy: FaultProxy;
  /** In front of the Runtime API control plane: the workers' RUNTIME_API_URL. */
  readonly controlProxy: FaultProxy;
}

type Matcher = (method: string, path: string) => boolean;

export interface Scenario {
  readonly activity: string;
  /** Which step of the activity, where one has several (provisionRuntime: ensure, wait, create). */
  readonly step?: string;
  /** The call whose answer is held on the runtime proxy / the control-plane proxy (a new matcher per run). */
  readonly runtimeCall?: () => Matcher;
  readonly controlCall?: () => Matcher;
  readonly faults?: FaultOptions;
  /** Drives the conversation into the activity on the first worker. */
  enter(rig: Rig): Promise<void>;
  /** When to kill, for a step whose own work goes on; by default as soon as the second worker polls. */
  killAt?(enteredAt: number): number;
  /** When the step's own work ended (probed from the kill on): it could not have completed before. */
  workEnded?(rig: Rig): Promise<number>;
}

/** How a scenario is named in the report. */
export const scenarioName = (scenario: Scenario) => (scenario.step ? `${scenario.activity} (${scenario.step})` : scenario.activity);

const agentCall = (method: string, tail: RegExp) => (): Matcher => (m, p) => m === method && /^\/sandboxes\/[^/]+\/api\/conversations/.test(p) && tail.test(p);
const controlCall = (method: string, path: string) => (): Matcher => (m, p) => m === method && p === path;
/** Only the `n`th request that `matches`. */
const nth = (n: number, matches: Matcher) => (): Matcher => {
  let seen = 0;
  return (m, p) => matches(m, p) && ++seen === n;
};

/** Started, provisioned and idle after one answered message. */
async function idle(rig: Rig): Promise<void> {
  await rig.stack.conversations.start({ conversationId: rig.id, userId: 'bench', message: { text: 'echo ready', messageId: 'm0' } });
  await waitForInfo(rig.stack.conversations, rig.id, (i) => i.lastTurn?.messageId === 'm0' && i.queued === 0, 90_000);
}

/** Long enough that the wait's first look finds the runtime still starting. */
const START_DELAY_MS = 3_000;
const TURN_MS = 20_000;
/** How long before the turn ends its worker is killed (the margin covers noticing that the turn began). */
const LEFT_MS = 3_000;

export const SCENARIOS: readonly Scenario[] = [
  {
    activity: 'provisionRuntime',
    step: 'ensure',
    controlCall: controlCall('POST', '/start'),
    enter: async (rig) => {
      await rig.stack.conversations.start({ conversationId: rig.id, userId: 'bench' });
      await rig.controlProxy.answered(0);
    },
  },
  {
    // The second look at a runtime still starting (the first found it so) is held.
    activity: 'provisionRuntime',
    step: 'wait until alive',
    faults: { startDelayMs: START_DELAY_MS },
    controlCall: nth(2, (m, p) => m === 'GET' && p.startsWith('/runtime/')),
    enter: async (rig) => {
      await rig.stack.conversations.start({ conversationId: rig.id, userId: 'bench' });
      await rig.controlProxy.answered(0);
    },
    workEnded: async (rig) => {
      for (;;) {
        const session = await rig.stack.runtimeApi.getSession(rig.id);
        if (session && (await rig.stack.runtimeApi.getRuntime(session.runtime_id)).pod_status === 'ready') return Date.now();
        await sleep(100);
      }
    },
  },
  {
    activity: 'provisionRuntime',
    step: 'create agent conversation',
    runtimeCall: () => (m, p) => m === 'POST' && /^\/sandboxes\/[^/]+\/api\/conversations$/.test(p),
    enter: async (rig) => {
      await rig.stack.conversations.start({ conversationId: rig.id, userId: 'bench' });
      await rig.runtimeProxy.answered(0);
    },
  },
  {
    activity: 'deliverMessage',
    runtimeCall: () => postsMessage,
    enter: async (rig) => {
      await rig.stack.conversations.start({ conversationId: rig.id, userId: 'bench', message: { text: 'echo one', messageId: 'm1' } });
      await rig.runtimeProxy.answered(0);
    },
  },
  {
    activity: 'awaitTurn',
    enter: async (rig) => {
      await rig.stack.conversations.start({ conversationId: rig.id, userId: 'bench', message: { text: `sleep ${TURN_MS / 1000}; echo x`, messageId: 'm1' } });
      await insideActivity(rig.handle, 'awaitTurn');
    },
    killAt: (enteredAt) => enteredAt + TURN_MS - LEFT_MS,
    workEnded: turnEnded,
  },
  {
    activity: 'interruptAgent',
    runtimeCall: agentCall('POST', /\/interrupt$/),
    enter: async (rig) => {
      await rig.stack.conversations.start({ conversationId: rig.id, userId: 'bench', message: { text: 'sleep 120; echo x', messageId: 'm1' } });
      await insideActivity(rig.handle, 'awaitTurn');
      await rig.stack.conversations.pause(rig.id);
      await rig.runtimeProxy.answered(0);
    },
  },
  {
    activity: 'pauseRuntime',
    controlCall: controlCall('POST', '/pause'),
    enter: async (rig) => {
      await idle(rig);
      await rig.stack.conversations.pause(rig.id);
      await rig.controlProxy.answered(0);
    },
  },
  {
    activity: 'deleteAgentConversation',
    runtimeCall: agentCall('DELETE', /\/api\/conversations\/[^/]+$/),
    enter: async (rig) => {
      await idle(rig);
      await rig.stack.conversations.close(rig.id);
      await rig.runtimeProxy.answered(0);
    },
  },
  {
    activity: 'stopRuntime',
    controlCall: controlCall('POST', '/stop'),
    enter: async (rig) => {
      await idle(rig);
      await rig.stack.conversations.close(rig.id);
      await rig.controlProxy.answered(0);
    },
  },
  {
    // The compensation: a cancelled conversation tears its runtime down by session.
    activity: 'stopSessionRuntime',
    controlCall: controlCall('POST', '/stop'),
    enter: async (rig) => {
      await idle(rig);
      await rig.handle.cancel();
      await rig.controlProxy.answered(0);
    },
  },
];

/** When the agent's turn on the conversation stopped running, read from the agent server itself. */
async function turnEnded(rig: Rig): Promise<number> {
  const session = await rig.stack.runtimeApi.getSession(rig.id);
  if (!session) throw new Error(`${rig.id}: no runtime`);
  const agent = new AgentServerClient({ baseUrl: session.url, sessionApiKey: session.session_api_key ?? undefined });
  try {
    for (;;) {
      const { execution_status: status } = await agent.getConversation(agentConversationIdFor(rig.id));
      if (status !== 'running') return Date.now();
      await sleep(100);
    }
  } finally {
    await agent.close();
  }
}
