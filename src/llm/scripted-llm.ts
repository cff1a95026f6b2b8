// A deterministic OpenAI-compatible LLM server for demonstrations and tests: real HTTP
// (node:http), answering POST /v1/chat/completions (and /chat/completions) with the
// reply src/llm/script.ts derives from the request, streamed as SSE chunks when the
// request says `stream: true`. Point an OpenHands agent at it with
// `llm: { model: 'openai/scripted', base_url: <baseUrl>, api_key: <anything> }`: litellm's
// `openai/` provider posts chat completions to `<base_url>/chat/completions`, and the
// name `scripted` keeps the SDK off the Responses API (it uses that only for gpt-5,
// gpt-6 and codex-mini models). No randomness: IDs come from counters, `created` is fixed.
// Every request is recorded. The grammar is in script.ts and docs/openhands-agent-server.md.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CREATED, completionBody, errorType, openAiError, sendJson, streamReply, usage } from './openai-wire.js';
import { decide, isTitleRequest, newestUserText } from './script.js';
import type { ChatRequest } from './script.js';

export interface ScriptedLlmOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
}

export interface ScriptedLlmRequest {
  /** 1, 2, 3, … in arrival order. */
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  /** Header names lower-cased. */
  readonly headers: IncomingHttpHeaders;
  /** The bearer token of `Authorization` (what litellm sends as the api key), if any. */
  readonly apiKey: string | undefined;
  /** The parsed JSON body; undefined for an empty or non-JSON body. */
  readonly body: ChatRequest | undefined;
  /** 'title' for the agent server's auto-title call, 'chat' for other completions. */
  readonly kind: 'chat' | 'title' | 'other';
  /** The newest user message's text, trimmed ('' when none). */
  readonly userText: string;
  /** The HTTP status answered; 499 when the client went away during a `slow:` wait. */
  status: number;
}

export interface ScriptedLlm {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** `<url>/v1`: the `base_url` to give an OpenAI client or litellm. */
  readonly baseUrl: string;
  readonly requests: readonly ScriptedLlmRequest[];
  /** Stops listening, cancels pending slow replies and drops open connections. */
  close(): Promise<void>;
}

const MODEL_IDS = ['scripted'];
const CLIENT_GONE = 499;
const CHAT_PATHS = ['/v1/chat/completions', '/chat/completions'];

/** The model name to give an OpenHands agent (litellm's `openai/` provider, model `scripted`). */
export const SCRIPTED_MODEL = 'openai/scripted';

export async function startScriptedLlm(options: ScriptedLlmOptions = {}): Promise<ScriptedLlm> {
  const requests: ScriptedLlmRequest[] = [];
  const attempts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let completions = 0;
  let toolCalls = 0;

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const { record, chat } = recordOf(req, raw, requests.length + 1);
    requests.push(record);
    const send = (status: number, payload: unknown) => {
      record.status = status;
      sendJson(res, status, payload);
    };

    const { path } = record;
    if (req.method === 'GET' && (path === '/v1/models' || path === '/models')) {
      return send(200, { object: 'list', data: MODEL_IDS.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'scripted-llm' })) });
    }
    if (req.method !== 'POST' || !CHAT_PATHS.includes(path)) return send(404, openAiError(404, `no route ${req.method} ${path}`, 'not_found'));
    if (!chat) return send(400, openAiError(400, 'the body must be JSON with a "messages" list', 'invalid_request_error'));

    const key = JSON.stringify(chat.messages);
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    const reply = decide(chat, attempt);
    if (reply.kind === 'error') return send(reply.status, openAiError(reply.status, reply.message, errorType(reply.status)));
    if (reply.kind === 'text' && reply.delayMs > 0) {
      // A client that gives up (an interrupted turn) must not leave a timer behind.
      if (!(await wait(reply.delayMs, req, timers))) {
        record.status = CLIENT_GONE;
        return;
      }
    }
    const completion = { id: `chatcmpl-scripted-${++completions}`, model: chat.model ?? 'scripted', toolCallId: `call_scripted_${reply.kind === 'tool' ? ++toolCalls : 0}` };
    record.status = 200;
    if (chat.stream) streamReply(res, reply, completion, usage(raw, reply));
    else sendJson(res, 200, completionBody(reply, completion, usage(raw, reply)));
  };

  const server = createServer((req, res) => {
    answer(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, openAiError(500, `scripted-llm failed: ${String(error)}`, 'server_error'));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  return {
    url,
    baseUrl: `${url}/v1`,
    requests,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function recordOf(req: IncomingMessage, raw: string, seq: number): { record: ScriptedLlmRequest; chat: ChatRequest | undefined } {
  const path = new URL(req.url ?? '/', 'http://scripted.invalid').pathname.replace(/\/+$/, '');
  const body = parseJson(raw);
  const isChat = req.method === 'POST' && CHAT_PATHS.includes(path);
  const chat = isChat && body && Array.isArray(body.messages) ? body : undefined;
  const record: ScriptedLlmRequest = {
    seq,
    method: req.method ?? '',
    path,
    headers: req.headers,
    apiKey: /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1],
    body,
    kind: chat ? (isTitleRequest(chat) ? 'title' : 'chat') : 'other',
    userText: chat ? newestUserText(chat) : '',
    status: 0,
  };
  return { record, chat };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(raw: string): ChatRequest | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return value && typeof value === 'object' ? (value as ChatRequest) : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves true after `ms`, or false as soon as the client goes away. */
function wait(ms: number, req: IncomingMessage, timers: Set<NodeJS.Timeout>): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      req.socket.off('close', onClose);
      resolve(true);
    }, ms);
    const onClose = () => {
      clearTimeout(timer);
      timers.delete(timer);
      resolve(false);
    };
    timers.add(timer);
    req.socket.once('close', onClose);
  });
}
