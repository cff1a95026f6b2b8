// Follows one agent conversation's events over the agent server's WebSocket,
// `/sockets/events/{id}` (openhands-contract.md §3.5), on the real server and ours alike.
// `openEventStream` resolves once the server has subscribed us (its first frame, a
// `full_state` snapshot, proves it), so an event recorded after that is never missed.
// Every ending but `close()` is a typed error from errors.ts, like the HTTP clients'.
import { WebSocket } from 'undici';
import type { Dispatcher, MessageEvent } from 'undici';
import { AgentServerClient } from './agent-server-client.js';
import { eventSchema } from './agent-server-schemas.js';
import type { AgentEvent } from './agent-server-schemas.js';
import { BadRequestError, InvalidResponseError, NetworkError, RuntimeDisconnectedError, RuntimeHttpError, UnauthorizedError } from './errors.js';

const LABEL = 'agent.eventStream';
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

export interface EventStreamOptions {
  /** The runtime `url`, http(s)://host[:port][/prefix]; the socket is ws(s)://host[:port][/prefix]/sockets/events/<id>. */
  baseUrl: string;
  conversationId: string;
  /** Sent as the `session_api_key` query parameter (every server version takes it) and again as an `auth` first frame. */
  sessionApiKey?: string | null;
  /**
   * Also resend the stored events whose timestamp is at or after this one (inclusive) before the live ones.
   * A string is sent verbatim: pass an event's own `timestamp` (the real server's are naive server-local
   * times, ours UTC). A Date is sent as UTC ISO 8601, which both servers convert. @default live events only
   */
  afterTimestamp?: string | Date;
  /** Aborting closes the socket; the iterator (or a pending open) then throws the signal's reason. */
  signal?: AbortSignal;
  /** For the handshake and for the HTTP request that explains a refused one. @default undici's global dispatcher */
  dispatcher?: Dispatcher;
  /** Wait for the first frame this long, then fail with a NetworkError. @default 30 s (the SDK's ready timeout) */
  readyTimeoutMs?: number;
}

/** One consumer iterates it, once; breaking out of the loop closes the socket. */
export interface EventStream extends AsyncIterable<AgentEvent> {
  /** Stops following: the iterator ends, without error, after the events already received. */
  close(): void;
}

/**
 * Opens the socket and waits until the server has subscribed it. Refusals are typed: a wrong key
 * (close 4001, or the HTTP 403 the real server gives a wrong query key) is an UnauthorizedError, an
 * unknown conversation (4004) a RuntimeDisconnectedError, a refused handshake whatever the same
 * request over HTTP says (503: RuntimePausedError, ...), anything else a retryable NetworkError.
 */
export async function openEventStream(options: EventStreamOptions): Promise<EventStream> {
  options.signal?.throwIfAborted();
  const stream = new SocketEventStream(options);
  await stream.ready;
  return stream;
}

type Ending = { failed: false } | { failed: true; error: unknown };

class SocketEventStream implements EventStream {
  readonly ready: Promise<void>;
  readonly #options: EventStreamOptions;
  readonly #ws: WebSocket;
  readonly #queue: AgentEvent[] = [];
  // An abort ends the stream at once; a server's error comes after the events it sent before it.
  readonly #onAbort = () => {
    this.#queue.length = 0;
    this.#end({ failed: true, error: this.#options.signal?.reason });
  };
  #opened = false;
  #ending: Ending | undefined;
  #wake: () => void = () => {};
  #settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  constructor(options: EventStreamOptions) {
    this.#options = options;
    this.#ws = new WebSocket(socketUrl(options), options.dispatcher ? { dispatcher: options.dispatcher } : undefined);
    this.ready = new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
    const readyMs = options.readyTimeoutMs ?? 30_000;
    const timer = setTimeout(() => this.#fail(new NetworkError(`${LABEL}: no frame within ${readyMs} ms`, { label: LABEL })), readyMs);
    void this.ready.finally(() => clearTimeout(timer)).catch(() => {});
    options.signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#ws.addEventListener('open', () => {
      this.#opened = true;
      if (options.sessionApiKey) this.#ws.send(JSON.stringify({ type: 'auth', session_api_key: options.sessionApiKey }));
    });
    this.#ws.addEventListener('message', (message) => this.#receive(message));
    this.#ws.addEventListener('close', ({ code, reason }) => void this.#closed(code, reason));
  }

  close(): void {
    this.#end({ failed: false });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<AgentEvent> {
    try {
      for (;;) {
        const event = this.#queue.shift();
        if (event !== undefined) yield event;
        else if (this.#ending?.failed) throw this.#ending.error;
        else if (this.#ending) return;
        else await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } finally {
      this.close();
    }
  }

  #receive({ data }: MessageEvent): void {
    if (this.#ending) return;
    let value: unknown;
    try {
      value = JSON.parse(String(data));
    } catch (cause) {
      return this.#fail(new InvalidResponseError(`${LABEL}: frame is not JSON`, { label: LABEL, cause }));
    }
    const parsed = eventSchema.safeParse(value);
    if (!parsed.success) {
      return this.#fail(new InvalidResponseError(`${LABEL}: frame is not an event: ${parsed.error.message}`, { label: LABEL, cause: parsed.error }));
    }
    this.#queue.push(parsed.data);
    this.#settle?.resolve();
    this.#wake();
  }

  async #closed(code: number, reason: string): Promise<void> {
    if (this.#ending) return;
    const details = { label: LABEL, bodyExcerpt: reason || undefined };
    if (code === 4001) this.#fail(new UnauthorizedError(`${LABEL}: authentication failed (4001)`, details));
    else if (code === 4004) this.#fail(new RuntimeDisconnectedError(`${LABEL}: conversation not found (4004)`, details));
    else if (this.#opened) this.#fail(new NetworkError(`${LABEL}: socket closed (${code}${reason ? ` ${reason}` : ''})`, details));
    else this.#fail(await this.#whyRefused());
  }

  /** undici does not say with what status an upgrade was refused; the same request over HTTP tells. */
  async #whyRefused(): Promise<unknown> {
    const { baseUrl, sessionApiKey, dispatcher, conversationId, signal } = this.#options;
    const client = new AgentServerClient({ baseUrl, sessionApiKey, dispatcher, timeoutMs: 10_000 });
    try {
      await client.getConversation(conversationId, { signal });
    } catch (error) {
      if (error instanceof RuntimeHttpError) error.message = `${LABEL}: upgrade refused; ${error.message}`;
      return error;
    } finally {
      await client.close();
    }
    return new NetworkError(`${LABEL}: the server refused the upgrade`, { label: LABEL });
  }

  #fail(error: unknown): void {
    this.#end({ failed: true, error });
  }

  #end(ending: Ending): void {
    if (this.#ending) return;
    this.#ending = ending;
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.close(1000);
    if (ending.failed) this.#settle?.reject(ending.error);
    else this.#settle?.resolve();
    this.#wake();
  }
}

function socketUrl({ baseUrl, conversationId, sessionApiKey, afterTimestamp }: EventStreamOptions): string {
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadRequestError(`${LABEL}: base URL must be http(s): ${baseUrl}`, { label: LABEL });
  if (conversationId === '' || conversationId === '.' || conversationId === '..') {
    throw new BadRequestError(`${LABEL}: invalid conversation id ${JSON.stringify(conversationId)}`, { label: LABEL });
  }
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/sockets/events/${encodeURIComponent(conversationId)}`;
  url.search = '';
  if (sessionApiKey) url.searchParams.set('session_api_key', sessionApiKey);
  if (afterTimestamp !== undefined) {
    const after = afterTimestamp instanceof Date ? afterTimestamp.toISOString() : afterTimestamp;
    if (!ISO_DATE_TIME.test(after)) throw new BadRequestError(`${LABEL}: afterTimestamp is not an ISO 8601 date-time: ${after}`, { label: LABEL });
    url.searchParams.set('resend_mode', 'since');
    url.searchParams.set('after_timestamp', after);
  }
  return url.href;
}
