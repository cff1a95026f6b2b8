// Part 1: start → ready through the workflow versus the same activity functions called
// directly, in sequence, by the same code without Temporal. The direct calls run inside
// MockActivityEnvironment, which mocks nothing we run: it only supplies the activity
// context (heartbeat, cancellationSignal, activityInfo) the functions read.
import { randomBytes } from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ConversationActivities } from '../../src/activities/index.js';
import type { ConversationClient } from '../../src/client.js';
import type { conversationWorkflow } from '../../src/workflows/conversation.js';
import { waitUntilReadyUpdate } from '../../src/workflows/messages.js';
import { conversationStatusKey, conversationUserIdKey, runtimeStatusKey } from '../../src/workflows/search-attributes.js';
import { timeline, wallNow } from './history.js';
import { sum } from './stats.js';

/** One timed start → ready; `phases` says where the time went (ms). */
export interface ReadyRun {
  readonly totalMs: number;
  readonly phases: Record<string, number>;
}

export interface ReadyVariant {
  readonly label: string;
  run(sessionId: string): Promise<ReadyRun>;
}

const STEPS = ['requestSlot', 'ensureRuntime', 'waitUntilAlive', 'createAgentConversation', 'provisionRuntime'];
/** Phase names, in the order they happen; a direct run has only ensure, wait and create; the workflow before the fewer-tasks patch has no provisionRuntime, after it only provisionRuntime. */
export const PHASES = [
  'client start → workflow started',
  'workflow tasks (count)',
  'workflow tasks queued (sum)',
  'workflow tasks run (sum)',
  'activity tasks queued (sum)',
  ...STEPS.map((step) => `${step} run`),
  'update completed → client',
];

/**
 * Through the workflow: ConversationClient.start (no message), then waitUntilReady; closed
 * afterwards. `separateAdmission`: as the client started before it used update-with-start,
 * the start and then the admission update.
 */
export function workflowVariant(label: string, conversations: ConversationClient, separateAdmission = false): ReadyVariant {
  return timedWorkflow(label, conversations, async (conversationId) => {
    if (separateAdmission) {
      await conversations.start({ conversationId, userId: 'bench', waitForAdmission: false });
      await conversations.admission(conversationId);
    } else {
      await conversations.start({ conversationId, userId: 'bench' });
    }
    await conversations.waitUntilReady(conversationId);
  });
}

/**
 * A proposed ConversationClient call, measured before it exists: the start and the
 * waitUntilReady update in one request (update-with-start), with the options start() uses.
 */
export function updateWithStartVariant(label: string, conversations: ConversationClient, taskQueue: string): ReadyVariant {
  return timedWorkflow(label, conversations, async (conversationId) => {
    const userId = 'bench';
    const startWorkflowOperation = new WithStartWorkflowOperation<typeof conversationWorkflow>('conversationWorkflow', {
      workflowId: conversationId,
      taskQueue,
      args: [{ conversationId, userId }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: conversationUserIdKey, value: userId },
        { key: conversationStatusKey, value: 'STARTING' },
        { key: runtimeStatusKey, value: 'none' },
      ],
    });
    await conversations.temporal.workflow.executeUpdateWithStart(waitUntilReadyUpdate, { startWorkflowOperation });
  });
}

function timedWorkflow(label: string, conversations: ConversationClient, startUntilReady: (conversationId: string) => Promise<void>): ReadyVariant {
  return {
    label,
    run: async (conversationId) => {
      const began = wallNow();
      await startUntilReady(conversationId);
      const ready = wallNow();
      const history = await conversations.temporal.workflow.getHandle(conversationId).fetchHistory();
      await conversations.close(conversationId);
      await conversations.result(conversationId);
      return { totalMs: ready - began, phases: phasesOf(history.events ?? [], began, ready) };
    },
  };
}

/** Where a run's time went, from its history: `began` when the client started it, `ready` when it answered. */
function phasesOf(events: Parameters<typeof timeline>[0], began: number, ready: number): Record<string, number> {
  const t = timeline(events);
  // NaN for a step that ran as a local activity (or not at all): it has no activity task of its own.
  const runOf = (type: string) => {
    const spans = t.activities.filter((a) => a.type === type);
    return spans.length > 0 ? sum(spans.map((a) => a.runMs)) : Number.NaN;
  };
  return {
    'client start → workflow started': t.startedAt - began,
    'workflow tasks (count)': t.workflowTasks.length,
    'workflow tasks queued (sum)': sum(t.workflowTasks.map((w) => w.queuedMs)),
    'workflow tasks run (sum)': sum(t.workflowTasks.map((w) => w.runMs)),
    'activity tasks queued (sum)': sum(t.activities.map((a) => a.queuedMs)),
    ...Object.fromEntries(STEPS.map((step) => [`${step} run`, runOf(step)])),
    'update completed → client': ready - (t.updateCompletedAt ?? Number.NaN),
  };
}

/**
 * The floor (floor-workflow.ts): a workflow that only runs provisionRuntime, started and
 * awaited by the client; the runtime is stopped afterwards, as the direct calls do.
 */
export function floorVariant(label: string, conversations: ConversationClient, taskQueue: string, activities: ConversationActivities, initTimeoutMs = 180_000): ReadyVariant {
  return {
    label,
    run: async (sessionId) => {
      const began = wallNow();
      const runtimeId = await conversations.temporal.workflow.execute('floorWorkflow', { workflowId: sessionId, taskQueue, args: [{ sessionId, timeoutMs: initTimeoutMs }] });
      const ready = wallNow();
      const history = await conversations.temporal.workflow.getHandle(sessionId).fetchHistory();
      await new MockActivityEnvironment().run(activities.stopRuntime, { sessionId, runtimeId: runtimeId as string });
      return { totalMs: ready - began, phases: phasesOf(history.events ?? [], began, ready) };
    },
  };
}

/** The same three activity functions, called one after the other; the runtime is stopped afterwards. */
export function directVariant(label: string, activities: ConversationActivities, initTimeoutMs = 180_000): ReadyVariant {
  const inActivity = <A, R>(fn: (input: A) => Promise<R>, input: A): Promise<R> => new MockActivityEnvironment().run(fn, input) as Promise<R>;
  return {
    label,
    run: async (sessionId) => {
      const phases: Record<string, number> = {};
      const began = wallNow();
      let mark = began;
      const step = (name: string) => {
        const now = wallNow();
        phases[`${name} run`] = now - mark;
        mark = now;
      };
      const runtime = await inActivity(activities.ensureRuntime, { sessionId });
      step('ensureRuntime');
      await inActivity(activities.waitUntilAlive, { ...runtime, timeoutMs: initTimeoutMs });
      step('waitUntilAlive');
      await inActivity(activities.createAgentConversation, runtime);
      step('createAgentConversation');
      const totalMs = wallNow() - began;
      await inActivity(activities.stopRuntime, { sessionId, runtimeId: runtime.runtimeId });
      return { totalMs, phases };
    },
  };
}

/** Runs the variants interleaved (A B C A B C …) with fresh session IDs; the first `warmup` rounds are not kept. */
export async function interleave(variants: readonly ReadyVariant[], iterations: number, warmup = 2): Promise<Map<string, ReadyRun[]>> {
  const runs = new Map(variants.map((v) => [v.label, [] as ReadyRun[]]));
  const tag = randomBytes(3).toString('hex');
  for (let i = 0; i < warmup + iterations; i++) {
    for (const [index, variant] of variants.entries()) {
      const run = await variant.run(`bench-ready-${tag}-${index}-${i}`);
      if (i >= warmup) runs.get(variant.label)!.push(run);
    }
  }
  return runs;
}
