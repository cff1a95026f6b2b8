// Delivering queued messages in order and following the turn each one starts.
//
// A message is done when its turn ends, not when it is posted: it stays at the head of
// the queue until then. If the runtime is lost mid-turn, the workflow recovers it (adopt,
// resume or replace) and delivers the same message again. "Exactly once" is per agent
// conversation: the delivery activity counts the user messages the agent already holds,
// so the same runtime never receives it twice (whatever retries and crashes happen), and
// a replacement runtime, which starts empty, receives it once more. That second delivery
// is recorded (`redelivered`, a notice), so the user can see that the agent saw it again.
//
// A message that finds the runtime paused (or gone) goes along with its provisioning (patch
// `deliver-with-provisioning`): the provisioning activity delivers it once the agent
// conversation is there, which saves the resume a workflow task and an activity. A message
// whose turn was cut short keeps the path of its own, and so does any delivery the
// provisioning could not make: deliverMessage then takes over.
import { ApplicationFailure, CancellationScope, condition, isCancellation, log, patched } from '@temporalio/workflow';
import type { Delivery } from '../activities/agent.js';
import { ConversationErrorType, RUNTIME_ERROR_TYPES } from '../failure-types.js';
import type { WorkflowActivities } from './activities.js';
import { workflowMetrics } from './metrics.js';
import { bringUp } from './provisioning.js';
import { describeFailure, publish } from './status.js';
import { REPLY_MAX_BYTES, agentRef, deliveryBaseline, recordOutcome, recordRefusal } from './state.js';
import type { ConversationState, QueuedMessage } from './state.js';
import { withinTrace } from './tracing.js';

export interface Recoveries {
  count: number;
}

export const DELIVER_WITH_PROVISIONING = 'deliver-with-provisioning';

export async function deliverNext(state: ConversationState, acts: WorkflowActivities, recoveries: Recoveries): Promise<void> {
  const message = state.queue[0];
  if (!message) return;
  let provisioned: Delivery | undefined;
  if (state.runtime.state !== 'running') {
    const reason = state.runtime.state === 'paused' ? 'resume' : 'recover';
    const fresh = state.turn?.messageId !== message.messageId;
    const carried = fresh && patched(DELIVER_WITH_PROVISIONING) ? message : undefined;
    provisioned = await withinTrace(carried?.trace, () => bringUp(state, acts, reason, undefined, carried));
  }
  // Still not running: it was asked to close while it waited for a slot.
  if (state.runtime.state !== 'running') return;
  const turn = state.turn?.messageId === message.messageId ? state.turn : undefined;
  if (turn?.generation !== (state.runtime.generation ?? 0)) {
    const outcome = provisioned ? recordDelivery(state, message, turn, provisioned) : await deliver(state, acts, message, turn);
    if (outcome === 'refused') return;
    if (outcome === 'runtime-trouble') return recover(state, acts, recoveries);
  }
  const ended = await withinTrace(message.trace, () => followTurn(state, acts, message.messageId));
  if (ended === 'lost') return recover(state, acts, recoveries);
  recordOutcome(state, { messageId: message.messageId, result: ended === 'ended' ? 'answered' : 'interrupted', executionStatus: state.executionStatus });
  recoveries.count = 0;
  state.queue.shift();
  state.turn = undefined;
}

type DeliveryOutcome = 'delivered' | 'refused' | 'runtime-trouble';

async function deliver(state: ConversationState, acts: WorkflowActivities, message: QueuedMessage, earlier: ConversationState['turn']): Promise<DeliveryOutcome> {
  try {
    const before = userMessagesBefore(state, message, earlier);
    const delivery = await withinTrace(message.trace, () =>
      acts.deliverMessage({
        ...agentRef(state),
        messageId: message.messageId,
        text: message.text,
        userMessagesBefore: before,
        // Only an agent that kept the message runs it on; one that lost it gets it as new (and the newest-text check).
        continueTurn: earlier !== undefined && !earlier.forgotten,
      }),
    );
    return recordDelivery(state, message, earlier, delivery);
  } catch (error) {
    if (isCancellation(error)) throw error;
    const failure = describeFailure(error);
    state.lastError = failure;
    if (failure.type !== RUNTIME_ERROR_TYPES.BadRequestError) return 'runtime-trouble';
    // The agent server refuses this message itself (e.g. 413): retrying cannot help. It is
    // reported on the conversation, never dropped silently, and the rest can go on.
    state.queue.shift();
    state.turn = undefined;
    recordRefusal(state, message.messageId, failure.message);
    log.warn('agent server refused a message', { messageId: message.messageId, error: failure.message });
    publish(state);
    return 'refused';
  }
}

/** The message is with the agent and its run started: its turn begins. */
function recordDelivery(state: ConversationState, message: QueuedMessage, earlier: ConversationState['turn'], delivery: Delivery): 'delivered' {
  const runtimeId = state.runtime.id ?? '';
  state.agentUserMessages = delivery.userMessages;
  if (!earlier) {
    state.delivered++;
    workflowMetrics.messageDelivered(message.receivedAt);
  } else if (!delivery.alreadyPresent || earlier.forgotten) {
    // A message its runtime forgot is there now only by a new post: this one, or one that failed after posting.
    state.redelivered = (state.redelivered ?? 0) + 1;
    state.notice = `message ${message.messageId} was delivered again to runtime ${runtimeId}: its turn was cut short when runtime ${earlier.runtimeId} was lost`;
  }
  state.turn = { messageId: message.messageId, runtimeId, generation: state.runtime.generation ?? 0, since: delivery.since, userMessages: delivery.userMessages };
  state.executionStatus = 'running';
  state.lastActivityAt = Date.now();
  publish(state);
  return 'delivered';
}

/**
 * What the agent held before this message. After a recovery the fresh count already
 * includes the message if the agent kept it (the real server keeps conversations on disk
 * across a restart): then "before" is what it was at the first delivery. A count below
 * that means the agent lost its memory (a new runtime), and the message goes again,
 * measured like a first delivery (deliveryBaseline), so that a delivery to the new runtime
 * that posted and then failed is not posted a second time after the next recovery. That is
 * noted on the turn (`forgotten`) once seen: a later count that reaches the old one again
 * (the new runtime holding the message from that failed delivery) must not pass for the
 * old runtime's memory.
 */
function userMessagesBefore(state: ConversationState, message: QueuedMessage, earlier: ConversationState['turn']): number {
  if (earlier && !earlier.forgotten && (state.agentUserMessages ?? 0) >= earlier.userMessages) return earlier.userMessages - 1;
  if (earlier) earlier.forgotten = true;
  return deliveryBaseline(state, message);
}

/** Marks the runtime suspect and provisions again: adopt, resume, or replace it. */
async function recover(state: ConversationState, acts: WorkflowActivities, recoveries: Recoveries): Promise<void> {
  recoveries.count++;
  if (recoveries.count > state.policy.maxRecoveries) {
    throw ApplicationFailure.nonRetryable(
      `runtime kept failing after ${state.policy.maxRecoveries} recoveries: ${state.lastError?.message ?? ''}`,
      ConversationErrorType.RuntimeLost,
    );
  }
  log.warn('runtime trouble; recovering', { error: state.lastError?.message, attempt: recoveries.count });
  await bringUp(state, acts, 'recover');
}

/**
 * Waits for the turn to end, unless a pause or close is requested first: then the turn's
 * activity is cancelled and the agent interrupted, so an operator never waits for a long
 * agent run. 'lost' means the turn could not be followed (the runtime is in trouble): the
 * status then says `unknown` until the next real reading.
 */
async function followTurn(state: ConversationState, acts: WorkflowActivities, messageId: string): Promise<'ended' | 'interrupted' | 'lost'> {
  const startedAt = Date.now();
  const scope = new CancellationScope();
  // A batch item asks for the reply with the turn's end, while its agent conversation surely exists.
  const replyMaxBytes = state.closeAfterReply ? { replyMaxBytes: REPLY_MAX_BYTES } : {};
  const turn = scope.run(() => acts.awaitTurn({ ...agentRef(state), since: state.turn?.since, ...replyMaxBytes }));
  const interruptRequested = () => state.requested.pause || state.requested.close !== undefined;
  // Runs recorded before the patch wait as they did, promise for promise.
  const interrupted = patched(RELEASE_INTERRUPTION_WAIT)
    ? await turnOrInterruption(turn, interruptRequested)
    : await Promise.race([turn.then(() => false, () => false), condition(interruptRequested).then(() => true)]);
  if (interrupted) scope.cancel();
  let result: 'ended' | 'interrupted' | 'lost';
  try {
    const outcome = await turn;
    state.executionStatus = outcome.executionStatus;
    state.lastTurn = { messageId, executionStatus: outcome.executionStatus, durationMs: outcome.durationMs, interrupted: false };
    if (state.closeAfterReply) state.reply = outcome.reply ?? null;
    result = 'ended';
  } catch (error) {
    // Only our own interruption may cancel the turn quietly; the workflow's cancellation goes on up.
    if (isCancellation(error) && !interrupted) throw error;
    if (interrupted) {
      await interruptAgent(state, acts);
      result = 'interrupted';
    } else {
      state.lastError = describeFailure(error);
      state.executionStatus = 'unknown';
      result = 'lost';
    }
    state.lastTurn = { messageId, executionStatus: state.executionStatus ?? 'unknown', durationMs: Date.now() - startedAt, interrupted };
  }
  workflowMetrics.turnEnded(result === 'ended' ? (state.executionStatus ?? 'unknown') : result, state.lastTurn?.durationMs ?? Date.now() - startedAt);
  state.lastActivityAt = Date.now();
  publish(state);
  return result;
}

export const RELEASE_INTERRUPTION_WAIT = 'release-interruption-wait';

/**
 * True if a pause or close was requested before the turn settled. The wait for a request
 * ends with the turn since patch `release-interruption-wait`: before it, a turn that ended
 * first left its wait blocked until the run's next pause or close, one for every turn, each
 * checked at every workflow task and kept in memory.
 */
async function turnOrInterruption(turn: Promise<unknown>, interruptRequested: () => boolean): Promise<boolean> {
  const waiting = new CancellationScope();
  // Cancelled below, or with the workflow: the turn's own outcome then decides.
  const requested = waiting.run(() => condition(interruptRequested)).then(() => true, () => false);
  const interrupted = await Promise.race([turn.then(() => false, () => false), requested]);
  waiting.cancel();
  return interrupted;
}

/** Best effort: a runtime that cannot be reached has no turn running worth stopping. */
async function interruptAgent(state: ConversationState, acts: WorkflowActivities): Promise<void> {
  try {
    await acts.interruptAgent(agentRef(state));
    state.executionStatus = 'paused';
  } catch (error) {
    if (isCancellation(error)) throw error;
    log.warn('could not interrupt the agent', { error: describeFailure(error).message });
  }
}
