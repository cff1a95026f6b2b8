// The owner of one shared runtime: an entity workflow per runtime name and task queue,
// so the runtime is provisioned once however many conversations ask at the same moment.
// Conversations attach (update-with-start from an activity, so the first one also
// starts this workflow) and detach when they close. The runtime is never paused: it runs
// while any conversation is attached, so no turn on it is ever cut short by a pause, and
// it is stopped once the last conversation has gone and the idle delay has passed. A
// conversation that cannot reach the runtime reports it; the first report makes the
// owner look (adopt it if it still runs, else start another), later reports of the same
// runtime get the replacement: one replacement for all of its conversations.
import { ApplicationFailure, CancellationScope, allHandlersFinished, condition, continueAsNew, log, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ConversationActivities } from '../../activities/index.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../../failure-types.js';
import { describeFailure } from '../status.js';
import { attachSignal, attachUpdate, detachSignal, sharedRuntimeStatusQuery } from './messages.js';
import type { AttachRequest, SharedRuntimeRef, SharedRuntimeSettings, SharedRuntimeStatus } from './messages.js';
import { initialSharedRuntimeState, isServing, refOf, toStatus } from './state.js';
import type { SharedRuntimeState } from './state.js';

export interface SharedRuntimeInput {
  readonly name: string;
  readonly settings: SharedRuntimeSettings;
  /** Set only when the workflow continues as new. */
  readonly state?: SharedRuntimeState;
}

const acts = proxyActivities<ConversationActivities>({
  startToCloseTimeout: '3m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '5s', maximumAttempts: 20, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
});

export async function sharedRuntimeWorkflow(input: SharedRuntimeInput): Promise<SharedRuntimeStatus> {
  const state = input.state ?? initialSharedRuntimeState(input.name, input.settings, Date.now());
  installHandlers(state);
  for (;;) {
    publish(state);
    const failedForNow = state.failedAt !== undefined && state.failedAt.requests === state.requests;
    if (state.users.length > 0 && !isServing(state) && !failedForNow) {
      await provision(state);
      continue;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof sharedRuntimeWorkflow>({ name: state.name, settings: state.settings, state });
    }
    if (state.users.length === 0) {
      const requests = state.requests;
      const woke = await condition(() => state.users.length > 0 || state.requests !== requests || workflowInfo().continueAsNewSuggested, state.settings.idleDelayMs);
      if (woke) continue;
      await stop(state);
      // Ends only when nobody attached meanwhile (an attach waits for a runtime, so it would
      // never finish here); a later attach starts a new run, and a new runtime.
      await condition(() => allHandlersFinished() || state.users.length > 0);
      if (state.users.length === 0) return toStatus(state);
      continue;
    }
    const requests = state.requests;
    const woke = await condition(() => state.users.length === 0 || state.checkDue || state.requests !== requests || workflowInfo().continueAsNewSuggested, state.settings.recheckUsersMs ?? 60_000);
    if (!woke) await dropGoneUsers(state);
  }
}

function installHandlers(state: SharedRuntimeState): void {
  setHandler(attachUpdate, (request) => attach(state, request), {
    validator: validateAttach,
    description: 'Attach a conversation; returns the runtime once it runs. With lostRuntimeId, reports that runtime lost first.',
  });
  setHandler(attachSignal, ({ conversationId }) => addUser(state, conversationId));
  setHandler(detachSignal, ({ conversationId }) => {
    const before = state.users.length;
    state.users = state.users.filter((id) => id !== conversationId);
    if (state.users.length < before) state.counters.detached++;
    state.lastUsedAt = Date.now();
  });
  setHandler(sharedRuntimeStatusQuery, () => toStatus(state));
}

function addUser(state: SharedRuntimeState, conversationId: string): void {
  if (state.users.includes(conversationId)) return;
  state.users.push(conversationId);
  state.counters.attached++;
}

async function attach(state: SharedRuntimeState, request: AttachRequest): Promise<SharedRuntimeRef> {
  addUser(state, request.conversationId);
  if (request.lostRuntimeId !== undefined && request.lostRuntimeId === state.runtime.id && state.runtime.state === 'running') state.checkDue = true;
  const ticket = ++state.requests;
  await condition(() => isServing(state) || (state.failedAt !== undefined && state.failedAt.requests >= ticket));
  if (isServing(state)) return refOf(state);
  state.users = state.users.filter((id) => id !== request.conversationId);
  throw ApplicationFailure.nonRetryable(`shared runtime ${state.name} could not be provisioned: ${state.failedAt?.message ?? 'unknown'}`, 'SharedRuntimeUnavailableError');
}

/** Adopts the session's runtime if it runs, resumes it if paused, else starts one; then waits until it is alive. */
async function provision(state: SharedRuntimeState): Promise<void> {
  const requests = state.requests;
  const previous = state.runtime.id;
  state.runtime.state = 'starting';
  publish(state);
  try {
    const runtime = await CancellationScope.nonCancellable(() => acts.ensureRuntime({ sessionId: state.sessionId, environment: state.settings.environment }));
    await acts.waitUntilAlive({ ...runtime, timeoutMs: state.settings.initTimeoutMs });
    if (runtime.runtimeId !== state.runtime.id) state.runtime.generation++;
    if (previous && previous !== runtime.runtimeId) state.counters.replaced++;
    Object.assign(state.runtime, { id: runtime.runtimeId, url: runtime.url, state: 'running' });
    state.checkDue = false;
    state.failedAt = undefined;
  } catch (error) {
    const message = describeFailure(error).message;
    log.error('shared runtime could not be provisioned', { name: state.name, error: message });
    // Whatever was started is stopped, so a failed provisioning leaks nothing.
    await CancellationScope.nonCancellable(() => acts.stopSessionRuntime({ sessionId: state.sessionId })).catch(() => undefined);
    Object.assign(state.runtime, { state: 'error', id: undefined, url: undefined });
    state.checkDue = false;
    state.failedAt = { requests, message };
  }
}

/**
 * A conversation that was terminated never detaches, and would keep the runtime up for
 * good: after a quiet spell the owner checks that each of its conversations still runs.
 */
async function dropGoneUsers(state: SharedRuntimeState): Promise<void> {
  const { gone } = await acts.checkSharedRuntimeUsers({ conversationIds: [...state.users] });
  if (gone.length === 0) return;
  log.info('dropped conversations that ended without detaching', { name: state.name, gone: gone.length });
  const before = state.users.length;
  state.users = state.users.filter((id) => !gone.includes(id));
  state.counters.detached += before - state.users.length;
}

async function stop(state: SharedRuntimeState): Promise<void> {
  if (state.runtime.id) await acts.stopRuntime({ sessionId: state.sessionId, runtimeId: state.runtime.id });
  state.runtime.state = 'stopped';
  publish(state);
}

function publish(state: SharedRuntimeState): void {
  const status = toStatus(state);
  setCurrentDetails(
    [
      `**shared runtime \`${state.name}\`**: ${status.runtimeState}${status.runtimeId ? ` (\`${status.runtimeId}\`)` : ''}`,
      `conversations on it: ${status.users}; attached ${status.attached}, detached ${status.detached}; replaced ${status.replaced}×`,
      status.lastError ? `last error: ${status.lastError}` : '',
    ]
      .filter(Boolean)
      .join('\n\n'),
  );
}

function validateAttach(request: AttachRequest): void {
  if (typeof request?.conversationId !== 'string' || request.conversationId === '') throw ApplicationFailure.nonRetryable('attach needs a conversationId', 'InvalidInputError');
}
