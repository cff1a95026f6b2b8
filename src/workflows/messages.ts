// Every message the conversation workflow understands, with its input and reply types.
// Shared by the workflow (setHandler) and ConversationClient, so both sides agree on
// names and shapes. One input object per message.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AdmissionView, ConversationInfo } from './state.js';

export interface SendMessageInput {
  /** Client-made ID; a message whose ID was seen recently is dropped as a duplicate. */
  readonly messageId: string;
  readonly text: string;
  /**
   * `queued` (the default): the update returns once the message is queued. `turn`: it
   * returns once the agent's turn on it has ended, or the runtime refused it.
   */
  readonly waitFor?: 'queued' | 'turn';
}

/** What became of a message: the agent answered, its turn was interrupted, the agent server refused it, or the conversation closed first. */
export interface MessageOutcome {
  readonly messageId: string;
  readonly result: 'answered' | 'interrupted' | 'refused' | 'undelivered';
  /** The agent's execution status when the turn ended (finished, error, stuck, paused). */
  readonly executionStatus?: string;
  /** Why it was refused or not delivered. */
  readonly reason?: string;
}

export interface MessageAck {
  readonly messageId: string;
  /** 1-based place in the delivery queue when accepted (1 = next to go to the agent); 0 for a duplicate. */
  readonly position: number;
  readonly duplicate: boolean;
  /** Set when the sender asked to wait for the turn (`waitFor: 'turn'`). */
  readonly outcome?: MessageOutcome;
}

export interface CloseInput {
  readonly reason?: string;
}

/** Fire-and-forget delivery of a user message. */
export const sendMessageSignal = defineSignal<[SendMessageInput]>('sendMessage');
/** Acknowledged delivery: returns once the message is queued, or rejects invalid input. */
export const sendMessageUpdate = defineUpdate<MessageAck, [SendMessageInput]>('sendMessage');
/** Resolves with the conversation's info once provisioning has ended (or fails if it failed). */
export const waitUntilReadyUpdate = defineUpdate<ConversationInfo, []>('waitUntilReady');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const closeSignal = defineSignal<[CloseInput]>('close');
export const infoQuery = defineQuery<ConversationInfo>('info');
/**
 * Resolves once the conversation's admission is decided: holding a slot, waiting in its
 * user's queue (with its position), or no limit applies. Fails with ConversationLimitError
 * when the start was rejected.
 */
export const admissionUpdate = defineUpdate<AdmissionView, []>('admission');
