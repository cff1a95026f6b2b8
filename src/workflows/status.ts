// Keeps what operators see in step with the state: the ConversationStatus and runtime
// status search attributes (so the Temporal UI can filter by them) and the workflow's
// current details (markdown shown on its page, details.ts). Only IDs and status names, no text.
import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { conversationStatusKey, conversationUserIdKey, refusedMessagesKey, runtimeStatusKey, waitingForSlotKey } from './search-attributes.js';
import type { ConversationState, ErrorRecord } from './state.js';
import { currentDetails } from './details.js';
import { noteRuntime } from './log-attributes.js';

export function publish(state: ConversationState): void {
  noteRuntime(state.runtime.id);
  const current = workflowInfo().typedSearchAttributes;
  // Only runs with admission carry this attribute, so older runs upsert exactly what they recorded.
  const waiting = state.admission ? state.admission.phase === 'waiting' : undefined;
  if (
    current.get(conversationStatusKey) !== state.status ||
    current.get(runtimeStatusKey) !== state.runtime.state ||
    current.get(conversationUserIdKey) !== state.userId ||
    (current.get(refusedMessagesKey) ?? 0) !== (state.refused ?? 0) ||
    (waiting !== undefined && current.get(waitingForSlotKey) !== waiting)
  ) {
    upsertSearchAttributes([
      { key: conversationUserIdKey, value: state.userId },
      { key: conversationStatusKey, value: state.status },
      { key: runtimeStatusKey, value: state.runtime.state },
      // Only once there is something to find, so ordinary conversations carry no extra attribute.
      ...(state.refused ? [{ key: refusedMessagesKey, value: state.refused }] : []),
      ...(waiting !== undefined ? [{ key: waitingForSlotKey, value: waiting }] : []),
    ]);
  }
  setCurrentDetails(currentDetails(state));
}

/** Describes a failure for the state without its stack: type and the innermost useful message. */
export function describeFailure(error: unknown): ErrorRecord {
  let current: unknown = error;
  let type = 'Error';
  let message = String(error);
  // Walk ActivityFailure → ApplicationFailure causes to the most specific one.
  while (current instanceof Error) {
    const failureType = (current as { type?: unknown }).type;
    if (typeof failureType === 'string' && failureType) type = failureType;
    if (current.message) message = current.message;
    current = (current as { cause?: unknown }).cause;
  }
  return { type, message: message.slice(0, 500), at: Date.now() };
}
