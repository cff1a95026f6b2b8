// OpenAI's chat-completions wire shapes for the scripted LLM: a whole completion, the SSE
// chunks of a streamed one, usage, and the error body. Nothing here decides what to say.
import type { ServerResponse } from 'node:http';
import type { Reply } from './script.js';

/** A fixed `created` timestamp (2026-01-01T00:00:00Z) keeps replies byte-identical. */
export const CREATED = 1_767_225_600;

export interface CompletionIds {
  readonly id: string;
  readonly model: string;
  readonly toolCallId: string;
}
export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}
export type Answer = Exclude<Reply, { kind: 'error' }>;
function assistantMessage(reply: Answer, ids: CompletionIds) {
  if (reply.kind === 'text') return { role: 'assistant', content: reply.text };
  const call = { id: ids.toolCallId, type: 'function', function: { name: reply.name, arguments: JSON.stringify(reply.arguments) } };
  return { role: 'assistant', content: null, tool_calls: [call] };
}

const finishReason = (reply: Answer) => (reply.kind === 'tool' ? 'tool_calls' : 'stop');

export function completionBody(reply: Answer, ids: CompletionIds, tokens: Usage) {
  return {
    id: ids.id,
    object: 'chat.completion',
    created: CREATED,
    model: ids.model,
    choices: [{ index: 0, message: assistantMessage(reply, ids), finish_reason: finishReason(reply) }],
    usage: tokens,
  };
}

/** OpenAI's stream: a role chunk, the content or tool call, a finish chunk, usage, [DONE]. */
export function streamReply(res: ServerResponse, reply: Answer, ids: CompletionIds, tokens: Usage): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const chunk = (delta: object, finish: string | null, extra: object = {}) =>
    res.write(`data: ${JSON.stringify({ id: ids.id, object: 'chat.completion.chunk', created: CREATED, model: ids.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`);
  chunk({ role: 'assistant', content: '' }, null);
  if (reply.kind === 'text') {
    // Word-sized pieces, so a consumer that joins deltas is actually exercised.
    for (const piece of reply.text.match(/\S+\s*|\s+/g) ?? []) chunk({ content: piece }, null);
  } else {
    const call = { index: 0, id: ids.toolCallId, type: 'function', function: { name: reply.name, arguments: JSON.stringify(reply.arguments) } };
    chunk({ tool_calls: [call] }, null);
  }
  chunk({}, finishReason(reply));
  res.write(`data: ${JSON.stringify({ id: ids.id, object: 'chat.completion.chunk', created: CREATED, model: ids.model, choices: [], usage: tokens })}\n\n`);
  res.end('data: [DONE]\n\n');
}

/** Token counts from characters (4 per token), so usage is deterministic too. */
export function usage(rawRequest: string, reply: Answer): Usage {
  const replyChars = reply.kind === 'text' ? reply.text.length : JSON.stringify(reply.arguments).length + reply.name.length;
  const prompt = Math.ceil(rawRequest.length / 4);
  const completion = Math.max(1, Math.ceil(replyChars / 4));
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function openAiError(status: number, message: string, type: string) {
  return { error: { message, type, param: null, code: status === 429 ? 'rate_limit_exceeded' : null } };
}

export function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

