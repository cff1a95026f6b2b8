// The conversation's whole state as one plain-JSON object (no Map, Set or class), so it
// can be passed unchanged to continueAsNew and shown by the info query.
import type { AdmissionPolicy } from './admission/messages.js';
import type { MessageOutcome } from './messages.js';
import type { SharedRuntimeBinding } from './shared-runtime/messages.js';
import type { MessageTrace } from './tracing.js';

/** Names follow the seed's ConversationStatus. */
export type ConversationStatus = 'STARTING' | 'RUNNING' | 'STOPPED' | 'ARCHIVED' | 'ERROR';

/** What the workflow knows of the runtime; `none` before provisioning and after stop. */
export type RuntimeState = 'none' | 'starting' | 'running' | 'paused' | 'stopped' | 'error';

export interface ConversationPolicy {
  /** Pause the runtime after this long with no turn running and nothing queued. */
  readonly idleDelayMs: number;
  /** Stop (archive) a paused runtime after this long. */
  readonly retentionMs: number;
  /** How long a runtime may take to become alive. */
  readonly initTimeoutMs: number;
  /** What close does to the runtime. */
  readonly closePolicy: 'stop' | 'pause';
  readonly maxMessageBytes: number;
  /** Provisioning attempts in a row before a runtime that keeps disappearing counts as failed. */
  readonly maxRecoveries: number;
}

export const DEFAULT_POLICY: ConversationPolicy = {
  idleDelayMs: 20 * 60_000,
  retentionMs: 7 * 86_400_000,
  initTimeoutMs: 180_000,
  closePolicy: 'stop',
  maxMessageBytes: 256 * 1024,
  maxRecoveries: 3,
};

export interface QueuedMessage {
  readonly messageId: string;
  readonly text: string;
  readonly receivedAt: number;
  /** The trace the message arrived in, continued by its delivery (absent in runs from before tracing). */
  readonly trace?: MessageTrace;
  /**
   * User messages the agent held before this one's first delivery attempt (delivery.ts,
   * deliveryBaseline): set by that attempt, lowered only when the agent is found holding fewer.
   */
  userMessagesBefore?: number;
}

export interface ErrorRecord {
  readonly type: string;
  readonly message: string;
  readonly at: number;
}

export interface TurnRecord {
  readonly messageId: string;
  readonly executionStatus: string;
  readonly durationMs: number;
  readonly interrupted: boolean;
}

/**
 * The conversation's slot of its user's (see admission/slot.ts). `ticket` counts its
 * requests; `grant` is the admission workflow's grant counter when it was granted.
 */
export interface SlotHolding {
  ticket: number;
  phase: 'requesting' | 'waiting' | 'held' | 'unlimited' | 'rejected' | 'idle';
  position?: number;
  policy?: AdmissionPolicy;
  /** The request's number at the admission workflow, in order of arrival. */
  seq?: number;
  grant?: number;
  /** Which admission workflow answered (absent in runs from before it named the task queue). */
  admissionWorkflowId?: string;
  requestedAt?: number;
  /** Asked to pause at its next quiet point to make room for another conversation. */
  evict: boolean;
  notifyWhenQuiet: boolean;
  /** Why a start was rejected: the message and the limit it names. */
  rejection?: { message: string; limit: number };
}

/** The most of the agent's last reply a batch keeps. */
export const REPLY_MAX_BYTES = 16 * 1024;

export interface ConversationState {
  readonly conversationId: string;
  readonly userId: string;
  /** The deployment's (the worker's configuration) with the starting client's allowed overrides; in runs from before, the client's. */
  policy: ConversationPolicy;
  /** Set until the deployment's policy has arrived, early in the first workflow task (start-settings.ts). */
  policyPending?: boolean;
  /** Why the start was refused: the client set policy settings the deployment does not let it set. */
  refusal?: { message: string; refused: readonly string[] };
  status: ConversationStatus;
  /**
   * `generation` counts provisionings: a message delivered under an older one is
   * delivered again (the delivery activity posts it only if the agent lacks it).
   */
  runtime: { id?: string; url?: string; state: RuntimeState; replaced: number; pausedAt?: number; generation?: number; sessionId?: string };
  /** Set when the conversation lives on a shared runtime (`member`: the pool runtime it was given) instead of its own. */
  shared?: { binding: SharedRuntimeBinding; member?: string };
  /** Close once every queued message's turn has ended, keeping the agent's last reply (batch items). */
  closeAfterReply?: boolean;
  /** The agent's last reply (at most REPLY_MAX_BYTES), read as each turn ends when `closeAfterReply` is set. */
  reply?: string | null;
  /** The agent server's conversation UUID (derived from the conversation ID by an activity). */
  agentConversationId?: string;
  /** User messages the agent conversation holds, as last read or delivered: the baseline of exactly-once delivery. */
  agentUserMessages?: number;
  /**
   * The message at the head of the queue once it reached the agent: it stays queued
   * until its turn ends, so a runtime lost mid-turn gets it again. `forgotten`: a runtime
   * since found holding less than `userMessages` lost the message (delivery.ts): from then
   * on it goes as a new message, measured from its kept baseline, and counts as redelivered.
   */
  turn?: { messageId: string; runtimeId: string; generation: number; since?: string; userMessages: number; forgotten?: boolean };
  /** Messages delivered again to a replacement runtime because theirs was lost mid-turn. */
  redelivered?: number;
  /** Messages the runtime refused (a 4xx such as 413); each is reported here, never dropped silently. */
  refused?: number;
  /** `by`: set when the deployment's policy refused it (over its message limit) rather than the agent server. */
  lastRefused?: { messageId: string; reason: string; at: number; by?: 'deployment' };
  /** What became of the most recent messages, for senders that wait for the turn. */
  outcomes?: MessageOutcome[];
  executionStatus?: string;
  queue: QueuedMessage[];
  /** The most recent message IDs, oldest first: the dedupe window carried across runs. */
  recentMessageIds: string[];
  received: number;
  delivered: number;
  duplicates: number;
  lastActivityAt: number;
  lastError?: ErrorRecord;
  lastTurn?: TurnRecord;
  /** Requests from signals, served by the main loop. */
  requested: { pause: boolean; resume: boolean; close?: { reason?: string } };
  /** Per-user admission; absent in runs that began before it existed. */
  admission?: SlotHolding;
  /** Why the runtime was last paused by the system rather than by idleness or a request (TOO_MANY_CONVERSATIONS). */
  stopReason?: string;
  /** A note for operators, e.g. "runtime was replaced after it disappeared". */
  notice?: string;
}

export const DEDUPE_WINDOW = 1_000;
/** Outcomes kept for waiting senders; a sender waits only on its own, recent message. */
export const OUTCOME_WINDOW = 100;

/** A message refused for good (by the deployment's rules, or by the agent server): counted, shown and kept among the outcomes, never dropped silently. */
export function recordRefusal(state: ConversationState, messageId: string, reason: string, by?: 'deployment'): void {
  state.refused = (state.refused ?? 0) + 1;
  state.lastRefused = { messageId, reason, at: Date.now(), ...(by && { by }) };
  state.notice = `message ${messageId} was refused${by ? '' : ' by the agent server'}: ${reason}`;
  recordOutcome(state, { messageId, result: 'refused', reason });
}

export function recordOutcome(state: ConversationState, outcome: MessageOutcome): void {
  const outcomes = (state.outcomes ??= []);
  outcomes.push(outcome);
  if (outcomes.length > OUTCOME_WINDOW) outcomes.splice(0, outcomes.length - OUTCOME_WINDOW);
}

/** The read-only view the info query returns: no secret, nothing but plain values. */
export interface ConversationInfo {
  readonly conversationId: string;
  readonly userId: string;
  readonly status: ConversationStatus;
  readonly runtimeStatus: RuntimeState;
  readonly runtimeId?: string;
  readonly runtimeUrl?: string;
  readonly executionStatus?: string;
  readonly queued: number;
  readonly received: number;
  readonly delivered: number;
  readonly duplicates: number;
  readonly redelivered: number;
  readonly refused: number;
  readonly lastRefused?: { readonly messageId: string; readonly reason: string; readonly at: number; readonly by?: 'deployment' };
  /** The message whose turn is running, if any. */
  readonly turnMessageId?: string;
  readonly runtimesReplaced: number;
  readonly lastActivityAt: string;
  readonly lastError?: ErrorRecord;
  readonly lastTurn?: TurnRecord;
  /** Set while the conversation waits for a slot, or holds one. */
  readonly admission?: AdmissionView;
  readonly waitingForSlot: boolean;
  readonly stopReason?: string;
  readonly notice?: string;
  /** The shared runtime the conversation lives on, if any. */
  readonly sharedRuntime?: string;
  /** The policy the conversation runs by: the deployment's, with the starting client's allowed overrides. */
  readonly policy: ConversationPolicy;
}

export interface AdmissionView {
  readonly state: SlotHolding['phase'];
  /** 1-based place in the user's queue, as the admission workflow last said. */
  readonly position?: number;
  readonly policy?: AdmissionPolicy;
  readonly seq?: number;
  readonly grant?: number;
}

export function toAdmissionView(holding: SlotHolding): AdmissionView {
  return { state: holding.phase, position: holding.position, policy: holding.policy, seq: holding.seq, grant: holding.grant };
}

export function toInfo(state: ConversationState): ConversationInfo {
  return {
    conversationId: state.conversationId,
    userId: state.userId,
    status: state.status,
    runtimeStatus: state.runtime.state,
    runtimeId: state.runtime.id,
    runtimeUrl: state.runtime.url,
    executionStatus: state.executionStatus,
    queued: state.queue.length,
    received: state.received,
    delivered: state.delivered,
    duplicates: state.duplicates,
    redelivered: state.redelivered ?? 0,
    refused: state.refused ?? 0,
    lastRefused: state.lastRefused,
    turnMessageId: state.turn?.messageId,
    runtimesReplaced: state.runtime.replaced,
    lastActivityAt: new Date(state.lastActivityAt).toISOString(),
    lastError: state.lastError,
    lastTurn: state.lastTurn,
    notice: state.notice,
    admission: state.admission && toAdmissionView(state.admission),
    waitingForSlot: state.admission?.phase === 'waiting',
    stopReason: state.stopReason,
    sharedRuntime: state.shared?.member,
    policy: state.policy,
  };
}

/** What an agent-server activity needs to reach this conversation in its runtime (no key: activities look it up). */
export function agentRef(state: ConversationState) {
  return {
    // A shared runtime's session is its own, not the conversation's.
    sessionId: state.runtime.sessionId ?? state.conversationId,
    runtimeId: state.runtime.id ?? '',
    url: state.runtime.url ?? '',
    agentConversationId: state.agentConversationId ?? '',
  };
}

/**
 * What the agent held before a message whose turn never began, or whose runtime forgot it
 * (delivery.ts): the count before its first delivery attempt, kept on the message. A
 * delivery can post and then fail as runtime trouble (the agent server drops out before the
 * activity learns the message's timestamp); the recovery that follows reads a count that
 * includes the message, and a delivery measured from that count would post it a second
 * time. Measured from the kept one, the agent is found holding it. The lower of the two:
 * fewer than kept means the agent lost its memory (a new runtime).
 */
export function deliveryBaseline(state: ConversationState, message: QueuedMessage): number {
  const now = state.agentUserMessages ?? 0;
  message.userMessagesBefore = Math.min(message.userMessagesBefore ?? now, now);
  return message.userMessagesBefore;
}
