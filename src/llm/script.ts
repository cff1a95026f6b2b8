// The script of the scripted LLM (src/llm/scripted-llm.ts): a pure function from one
// chat-completions request to one reply. The reply depends only on the newest user
// message and on what follows it in the request, so a conversation replayed against
// the same script gets the same replies. The directive is the last text part of the
// newest user message, trimmed: the SDK merges consecutive user messages into one
// message of several parts, and only the newest part is the new instruction. Grammar
// (matched case-sensitively at the start of the directive):
//
//   run: <shell command>    no tool result after the user message yet → call the tool
//                           `terminal` with {"command": <shell command>}; once the tool
//                           result is there → text "ran: <command>\n<tool result text>"
//   finish: <text>          call the built-in `finish` tool with {"message": <text>}
//   slow: <ms> <text>       wait <ms> milliseconds, then reply <text>
//   error                   HTTP 500 in OpenAI's error shape, every time
//   error: <status>         that status (400-599), every time
//   flaky: <n> <text>       HTTP 500 for the first <n> identical requests, then <text>
//   anything else           text "echo: <directive>"
//
// A request without tools whose system prompt mentions a title is the agent server's
// auto-title call: it always gets the text "Scripted conversation" at once, so `error`
// and `slow:` shape only the agent's own turn.

export interface ChatMessage {
  readonly role: string;
  readonly content?: unknown;
  readonly tool_calls?: unknown;
  readonly tool_call_id?: string;
}

export interface ChatRequest {
  readonly model?: string;
  readonly messages: readonly ChatMessage[];
  readonly tools?: ReadonlyArray<{ readonly function?: { readonly name?: string } }>;
  readonly stream?: boolean;
}

export type Reply =
  | { readonly kind: 'text'; readonly text: string; readonly delayMs: number }
  | { readonly kind: 'tool'; readonly name: string; readonly arguments: Record<string, unknown> }
  | { readonly kind: 'error'; readonly status: number; readonly message: string };

export const TERMINAL_TOOL = 'terminal';
export const FINISH_TOOL = 'finish';
export const TITLE_REPLY = 'Scripted conversation';

/** The text of a message: a string as is, the text parts of a part list joined by newlines. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: { type?: unknown; text?: unknown }) => (part?.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .filter(Boolean)
    .join('\n');
}

/** Index of the newest user message, or -1. */
function newestUserIndex(messages: readonly ChatMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === 'user') return i;
  return -1;
}

/** The directive: the newest user message's last non-empty text part, trimmed ('' when none). */
export function newestUserText(request: ChatRequest): string {
  const index = newestUserIndex(request.messages);
  const content = index < 0 ? undefined : request.messages[index]?.content;
  const parts = Array.isArray(content) ? content.map((part) => textOf([part]).trim()) : [textOf(content).trim()];
  return parts.filter(Boolean).at(-1) ?? '';
}

export function isTitleRequest(request: ChatRequest): boolean {
  const system = request.messages.find((m) => m.role === 'system');
  return (request.tools ?? []).length === 0 && /\btitles?\b/i.test(textOf(system?.content));
}

const offers = (request: ChatRequest, tool: string) => (request.tools ?? []).some((t) => t.function?.name === tool);

/**
 * The reply to `request`. `attempt` counts identical requests seen so far, this one
 * included (1 the first time); only `flaky:` looks at it.
 */
export function decide(request: ChatRequest, attempt = 1): Reply {
  if (isTitleRequest(request)) return { kind: 'text', text: TITLE_REPLY, delayMs: 0 };
  const userIndex = newestUserIndex(request.messages);
  const text = newestUserText(request);
  const after = request.messages.slice(userIndex + 1);

  let match: RegExpExecArray | null;
  if ((match = /^run:\s*([\s\S]+)$/.exec(text))) {
    const command = match[1]!.trim();
    const result = after.findLast((m) => m.role === 'tool');
    if (result) return { kind: 'text', text: `ran: ${command}\n${textOf(result.content)}`, delayMs: 0 };
    if (!offers(request, TERMINAL_TOOL)) return { kind: 'text', text: `scripted-llm: the request offers no ${TERMINAL_TOOL} tool`, delayMs: 0 };
    return { kind: 'tool', name: TERMINAL_TOOL, arguments: { command } };
  }
  if ((match = /^finish:\s*([\s\S]*)$/.exec(text))) {
    if (!offers(request, FINISH_TOOL)) return { kind: 'text', text: match[1]!, delayMs: 0 };
    return { kind: 'tool', name: FINISH_TOOL, arguments: { message: match[1]! } };
  }
  if ((match = /^slow:\s*(\d+)(?:\s+([\s\S]*))?$/.exec(text))) {
    return { kind: 'text', text: match[2] ?? '', delayMs: Number(match[1]) };
  }
  if ((match = /^error(?::\s*([45]\d\d))?$/.exec(text))) {
    const status = Number(match[1] ?? 500);
    return { kind: 'error', status, message: `scripted error ${status}` };
  }
  if ((match = /^flaky:\s*(\d+)(?:\s+([\s\S]*))?$/.exec(text))) {
    if (attempt <= Number(match[1])) return { kind: 'error', status: 500, message: `scripted flaky failure ${attempt} of ${match[1]}` };
    return { kind: 'text', text: match[2] ?? '', delayMs: 0 };
  }
  return { kind: 'text', text: `echo: ${text}`, delayMs: 0 };
}
