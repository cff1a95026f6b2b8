// Input rules shared by the client (the edge) and the workflow's update validator, so a
// bad conversation ID or message is refused with the same words before anything starts
// and, should a caller bypass the client, before anything enters history. Plain
// functions, no schema library: this file also runs inside the workflow sandbox.

import type { ConversationStatus } from './state.js';

export const CONVERSATION_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * The largest request body a runtime is sure to accept: the project's own agent server and
 * Runtime API refuse bodies over 1 MiB (src/http-server/router.ts), as does nginx, the usual
 * ingress in front of hosted runtimes (client_max_body_size defaults to 1m). The real
 * openhands-agent-server 1.58 sets no limit of its own.
 */
export const RUNTIME_MAX_BODY_BYTES = 1024 * 1024;
/** The body around a message's text, as delivered: {"role":"user","content":[{"type":"text","text":""}],"run":true}. */
export const MESSAGE_ENVELOPE_BYTES = JSON.stringify({ role: 'user', content: [{ type: 'text', text: '' }], run: true }).length;
/** The most a message limit can be: text at this size, JSON-encoded, fills the body limit exactly. */
export const MESSAGE_MAX_BYTES_CEILING = RUNTIME_MAX_BODY_BYTES - MESSAGE_ENVELOPE_BYTES;

/** A typed reason for refusing input; the workflow wraps it in an ApplicationFailure. */
export class InvalidInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

export const validateConversationId = (id: unknown): string => validateId(id, 'conversationId', 'conversation ID');
export const validateUserId = (id: unknown): string => validateId(id, 'userId', 'user ID');

function validateId(id: unknown, field: string, label: string): string {
  if (typeof id !== 'string' || !CONVERSATION_ID_PATTERN.test(id)) {
    throw new InvalidInputError(field, `invalid ${label} ${JSON.stringify(id)}: use 1-128 characters of letters, digits, '.', '_' or '-'`);
  }
  // `.` and `..` name the current and parent folder in a URL path or a workspace path: such an ID could never be provisioned.
  if (/^\.+$/.test(id)) {
    throw new InvalidInputError(field, `invalid ${label} ${JSON.stringify(id)}: an ID may not be made of dots only (it would name a folder in URL and file paths)`);
  }
  return id;
}

/** Every ConversationStatus, for checking a status that comes from outside (a CLI flag, a list filter). */
export const CONVERSATION_STATUSES = ['STARTING', 'RUNNING', 'STOPPED', 'ARCHIVED', 'ERROR'] as const satisfies readonly ConversationStatus[];
// Fails to compile when ConversationStatus gains a member the list above lacks.
const everyStatusListed: Exclude<ConversationStatus, (typeof CONVERSATION_STATUSES)[number]> extends never ? true : never = true;
void everyStatusListed;

/** A conversation status in any letter case, e.g. `running`; anything else is refused with the valid values. */
export function validateStatus(status: unknown): ConversationStatus {
  const upper = typeof status === 'string' ? status.toUpperCase() : undefined;
  const match = CONVERSATION_STATUSES.find((known) => known === upper);
  if (match === undefined) {
    throw new InvalidInputError('status', `invalid status ${JSON.stringify(status)}: use one of ${CONVERSATION_STATUSES.join(', ')} (any letter case)`);
  }
  return match;
}

export interface MessageLike {
  readonly messageId: unknown;
  readonly text: unknown;
}

export function validateMessage(message: MessageLike | undefined, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): void {
  if (typeof message !== 'object' || message === null) throw new InvalidInputError('message', 'a message needs a messageId and a text');
  const { messageId, text } = message;
  if (typeof messageId !== 'string' || !MESSAGE_ID_PATTERN.test(messageId)) {
    throw new InvalidInputError(
      'messageId',
      `invalid message ID ${JSON.stringify(messageId)}: use 1-128 characters of letters, digits, '.', '_', ':' or '-'`,
    );
  }
  if (typeof text !== 'string') throw new InvalidInputError('text', `text must be a string, not ${typeName(text)}`);
  if (text.trim() === '') throw new InvalidInputError('text', 'the message text is empty');
  // Measured as sent, so a message within the limit always fits the request body a runtime accepts.
  const limit = Math.min(maxBytes, MESSAGE_MAX_BYTES_CEILING);
  const sent = jsonTextBytes(text);
  if (sent <= limit) return;
  const plain = utf8Length(text);
  const size = sent === plain ? `${sent} bytes` : `${sent} bytes as sent (JSON-encoded; ${plain} bytes of plain UTF-8)`;
  const why = limit < maxBytes ? ` (a runtime accepts request bodies up to ${RUNTIME_MAX_BODY_BYTES} bytes, ${MESSAGE_ENVELOPE_BYTES} of them around the text)` : '';
  throw new InvalidInputError('text', `the message text is ${size}; the limit is ${limit} bytes${why}`);
}

/** The UTF-8 size of a message body on the wire: the envelope plus the text as JSON.stringify encodes it. */
export function messageBodyBytes(text: string): number {
  return MESSAGE_ENVELOPE_BYTES + jsonTextBytes(text);
}

/**
 * UTF-8 bytes of `JSON.stringify(text)` without its quotes, computed without TextEncoder or
 * Buffer (the workflow sandbox may lack them): `"` and `\\` and \b \f \n \r \t take 2 bytes,
 * other control characters and lone surrogates become \uXXXX (6 bytes).
 */
export function jsonTextBytes(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (code === 0x22 || code === 0x5c || code === 0x08 || code === 0x0c || code === 0x0a || code === 0x0d || code === 0x09) bytes += 2;
    else if (code < 0x20 || (code >= 0xd800 && code <= 0xdfff)) bytes += 6;
    else bytes += utf8Bytes(code);
  }
  return bytes;
}

/** UTF-8 length (a lone surrogate counts as the 3-byte U+FFFD an encoder writes for it). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) bytes += utf8Bytes(char.codePointAt(0) as number);
  return bytes;
}

const utf8Bytes = (code: number): number => (code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4);

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
