// Every message between a conversation and its user's admission workflow, with the
// input types both sides share. One user's slots have one owner: the admission workflow
// whose ID `admissionWorkflowId` derives from the user ID and the task queue.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export type AdmissionPolicy = 'evict' | 'queue' | 'reject';
export const ADMISSION_POLICIES = ['evict', 'queue', 'reject'] as const satisfies readonly AdmissionPolicy[];

/** The limit that applies to one user; `limit` 0 means no limit (admission is skipped). */
export interface AdmissionSettings {
  readonly limit: number;
  readonly policy: AdmissionPolicy;
}

/** The reason an evicted conversation records, as the seed names it (without its `AGENT_ERROR$` prefix). */
export const TOO_MANY_CONVERSATIONS = 'TOO_MANY_CONVERSATIONS';

/**
 * One admission workflow per user and deployment. A deployment is a task queue with the
 * workers and the Runtime API behind it: the slots are that Runtime API's runtimes, and
 * only those workers can pause them. It also keeps one deployment's starts from waiting on
 * an admission workflow that another one started on a task queue nobody here polls.
 */
export const admissionWorkflowId = (taskQueue: string, userId: string) => `admission-user-${userId}-on-${taskQueue}`;
/** The ID before it named the task queue: runs that got their slot then still signal it. */
export const legacyAdmissionWorkflowId = (userId: string) => `admission-user-${userId}`;

/**
 * One request for a slot. `chain` is the conversation's first run ID (stable across
 * continue-as-new, new when a closed conversation is reopened) and `ticket` counts the
 * conversation's requests: together they make a retried request idempotent and let a
 * late release of an older ticket be told apart from the current one.
 */
export interface SlotClaim {
  readonly conversationId: string;
  readonly chain: string;
  readonly ticket: number;
}

export interface SlotRequest extends SlotClaim {
  /** A start may be rejected; a resume (an acknowledged message waits on it) never is. */
  readonly purpose: 'start' | 'resume';
  readonly settings: AdmissionSettings;
}

/**
 * `unlimited`: the user has no limit, no slot is held. `waiting`: a `slotGranted` signal
 * follows. `seq` numbers the requests in the order they arrived, `grant` the grants in theirs.
 */
export type SlotAnswer =
  | { readonly kind: 'granted'; readonly grant: number; readonly seq: number; readonly admissionWorkflowId?: string }
  | { readonly kind: 'waiting'; readonly position: number; readonly policy: AdmissionPolicy; readonly seq: number; readonly admissionWorkflowId?: string }
  | { readonly kind: 'unlimited' };

export interface SlotGrant {
  readonly ticket: number;
  /** The admission workflow's grant counter: grants go out in this order. */
  readonly grant: number;
  /** Others wait: say when no turn runs, so the slot can be handed on. */
  readonly notifyWhenQuiet: boolean;
}

/** What `conversations users <id>` shows. */
export interface UserAdmissionStatus {
  readonly userId: string;
  readonly limit: number;
  readonly policy: AdmissionPolicy;
  readonly held: ReadonlyArray<{ readonly conversationId: string; readonly since: string; readonly evicting: boolean }>;
  readonly queue: ReadonlyArray<{ readonly conversationId: string; readonly position: number; readonly since: string; readonly purpose: 'start' | 'resume' }>;
  readonly requested: number;
  readonly granted: number;
  readonly evicted: number;
  readonly rejected: number;
  readonly reclaimed: number;
}

// To the admission workflow.
export const requestSlotUpdate = defineUpdate<SlotAnswer, [SlotRequest]>('requestSlot');
export const releaseSlotSignal = defineSignal<[SlotClaim]>('releaseSlot');
/** A holder that was asked `notifyWhenQuiet` has no turn running and nothing queued. */
export const conversationQuietSignal = defineSignal<[SlotClaim]>('conversationQuiet');
export const admissionStatusQuery = defineQuery<UserAdmissionStatus>('admissionStatus');

// To a conversation.
export const slotGrantedSignal = defineSignal<[SlotGrant]>('slotGranted');
/** Pause at the next quiet point (no turn running, nothing queued) and give the slot back. */
export const evictSignal = defineSignal<[{ readonly ticket: number }]>('evict');
export const notifyWhenQuietSignal = defineSignal<[{ readonly ticket: number }]>('notifyWhenQuiet');
