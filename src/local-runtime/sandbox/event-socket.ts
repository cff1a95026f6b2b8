// The agent server's event socket, `/sockets/events/{conversation_id}`, with the real
// server's semantics (openhands/agent_server/sockets.py, 1.58.2): a key in the query or
// the X-Session-API-Key header is checked before the handshake (a wrong one: HTTP 403);
// without one the client has 10 s to send `{"type":"auth","session_api_key":…}` as its
// first frame (a wrong or missing one: close 4001). An unknown conversation closes with
// 4004. Then comes a `full_state` snapshot, the resent events (`resend_mode=all`, or
// `since` with `after_timestamp`, inclusive; a timestamp without offset is server-local
// time), then every event as it is recorded, and another snapshot whenever a run stops.
// Here the first three follow each other in one tick, so nothing is missed, repeated or
// reordered; the real server gives less.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { headerValue, secretsEqual } from '../../http-server/router.js';
import { acceptWebSocket, refuseUpgrade } from '../../http-server/websocket.js';
import type { WebSocketConnection } from '../../http-server/websocket.js';
import type { AgentEvent } from '../../runtime-api/agent-server-schemas.js';
import type { ConversationService } from './conversation-service.js';
import type { Conversation } from './conversations.js';

const PATH = /^\/sockets\/events\/([^/]*)$/;
// The real route takes a UUID and refuses anything else before the handshake.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FIRST_FRAME_AUTH_MS = 10_000;

interface Subscription {
  readonly id: string;
  /** Resend the events at or after this (epoch ms; -Infinity: all); undefined: live only. */
  readonly resendFromMs: number | undefined;
}

export class EventSockets {
  readonly #open = new Set<WebSocketConnection>();

  constructor(
    private readonly service: ConversationService,
    /** Accepted session keys; empty = no auth. */
    private readonly keys: readonly string[],
  ) {}

  /** The server's `upgrade` listener. */
  readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuseUpgrade(socket, 400, 'Bad Request');
    }
    const id = PATH.exec(url.pathname)?.[1];
    if (id === undefined) return refuseUpgrade(socket, 404, 'Not Found');
    const subscription = parseQuery(id, url.searchParams);
    const given = url.searchParams.get('session_api_key') ?? headerValue(req, 'x-session-api-key');
    // As in FastAPI, parameters that do not validate and a wrong key refuse the handshake itself.
    if (!subscription || (this.keys.length > 0 && given !== undefined && !this.#isKey(given))) {
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    const ws = acceptWebSocket(req, socket, head);
    if (!ws) return;
    this.#open.add(ws);
    ws.once('close', () => this.#open.delete(ws));
    if (this.keys.length === 0 || given !== undefined) this.#subscribe(ws, subscription);
    else this.#awaitAuthFrame(ws, subscription);
  };

  /** Closes every socket (server shutdown). */
  closeAll(): void {
    for (const ws of this.#open) ws.close(1001, 'Server shutting down');
  }

  #awaitAuthFrame(ws: WebSocketConnection, subscription: Subscription): void {
    const timer = setTimeout(() => ws.close(4001, 'Authentication failed'), FIRST_FRAME_AUTH_MS);
    ws.once('close', () => clearTimeout(timer));
    ws.once('text', (text) => {
      clearTimeout(timer);
      const frame = parseJson(text) as { type?: unknown; session_api_key?: unknown } | undefined;
      const key = typeof frame?.session_api_key === 'string' ? frame.session_api_key : undefined;
      if (frame?.type === 'auth' && this.#isKey(key)) this.#subscribe(ws, subscription);
      else ws.close(4001, 'Authentication failed');
    });
  }

  /** Compares against every key, so the time taken does not tell which one matched. */
  #isKey(given: string | undefined): boolean {
    return this.keys.map((key) => secretsEqual(given, key)).includes(true);
  }

  #subscribe(ws: WebSocketConnection, { id, resendFromMs }: Subscription): void {
    const conversation = this.service.find(id);
    if (!conversation) return ws.close(4004, 'Conversation not found');
    const send = (event: AgentEvent) => ws.sendText(JSON.stringify(event));
    send(snapshot(conversation));
    if (resendFromMs !== undefined) conversation.log.since(resendFromMs).forEach(send);
    const unsubscribe = conversation.log.subscribe({
      event: (event) => {
        send(event);
        // The real server follows the end of every run (and a pause) with a snapshot, sent once all the run's events are.
        if (isRunStop(event)) send(snapshot(conversation));
      },
      end: () => ws.close(1001, 'Conversation deleted'),
    });
    ws.once('close', unsubscribe);
    ws.on('text', (text) => onClientFrame(ws, text));
  }
}

/** What to send, or undefined when the id or the query does not validate. */
function parseQuery(id: string, query: URLSearchParams): Subscription | undefined {
  if (!UUID.test(id)) return undefined;
  const mode = query.get('resend_mode') ?? (query.get('resend_all') === 'true' ? 'all' : null);
  const after = query.get('after_timestamp');
  // Date.parse reads a date-time without offset as local time: the real server's rule.
  const afterMs = after === null ? undefined : Date.parse(after);
  if ((mode !== null && mode !== 'all' && mode !== 'since') || Number.isNaN(afterMs)) return undefined;
  const resendFromMs = mode === 'all' ? -Infinity : mode === 'since' ? afterMs : undefined;
  return { id, resendFromMs };
}

/** The real server takes other frames as messages to run; this one only ignores repeated auth frames. */
function onClientFrame(ws: WebSocketConnection, text: string): void {
  const frame = parseJson(text) as { type?: unknown } | undefined;
  if (frame?.type === 'auth') return;
  const detail = 'sending messages over the event socket is not supported here; POST /api/conversations/{id}/events';
  ws.sendText(JSON.stringify({ ...head('ServerErrorEvent'), code: 'NotSupported', detail }));
}

const isRunStop = (event: AgentEvent) =>
  event.kind === 'ConversationStateUpdateEvent' && event['key'] === 'execution_status' && event['value'] !== 'running';

/** The state every subscriber gets first, and again when a run stops; not recorded, as on the real server. */
function snapshot(conversation: Conversation): AgentEvent {
  return { ...head('ConversationStateUpdateEvent'), key: 'full_state', value: conversation.info() };
}

function head(kind: string): AgentEvent {
  return { id: randomUUID(), kind, source: 'environment', timestamp: new Date().toISOString() };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
