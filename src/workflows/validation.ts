// Input rules shared by the client (the edge) and the workflow's update validator, so a
// bad conversation ID or message is refused with the same words before anything starts
// and, should a caller bypass the client, before anything enters history. Plain
// functions, no schema library: this file also runs inside the workflow sandbox.

export const CONVERSATION_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

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
  return id;
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
  if (typeof text !== 'string' || text.trim() === '') throw new InvalidInputError('text', 'the message text is empty');
  const bytes = utf8Length(text);
  if (bytes > maxBytes) throw new InvalidInputError('text', `the message text is ${bytes} bytes; the limit is ${maxBytes} bytes`);
}

/** UTF-8 length without TextEncoder or Buffer, which the workflow sandbox may lack. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}
