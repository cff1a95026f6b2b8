// The ingress in front of the sandboxes, as on the hosted system: a runtime's `url` is
// `<server>/sandboxes/<runtime_id>`, and requests under it are passed to the sandbox's
// loopback port. Its answers carry the contract's meanings for the agent client: 503 the
// runtime is paused (a frozen process would otherwise hang the caller), 404 it is gone,
// 502 it cannot be reached right now (crashed, restarting, not ready yet).
//
// It lets through only requests that carry the runtime's session key (X-Session-API-Key, or
// the `session_api_key` query parameter that WebSocket clients use) or this server's own
// Runtime API key, answering 401 to the rest. One exception: a WebSocket upgrade with no key
// at all is passed on, because the agent servers also take the key in the socket's first
// frame (clients that keep keys out of URLs do so), and close the socket with 4001 on a
// wrong one; we cannot read that frame without speaking WebSocket ourselves. Liveness stays open, as on the hosted system
// and in the agent server itself: GET /alive and /health say "up" and nothing more, and
// probes (a load balancer's, our readiness check) carry no key. /server_info is not open:
// it tells versions and uptime, which help an attacker more than a probe.
import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HttpError } from '../http-server/errors.js';
import { headerValue, secretsEqual, sendJson } from '../http-server/router.js';
import type { FaultInjector } from './faults.js';
import type { LocalRuntime } from './runtime.js';

export const INGRESS_PREFIX = '/sandboxes/';
const SMALL_BODY_BYTES = 64 * 1024;
/** Paths anyone may GET: liveness only. */
const OPEN_PATHS = new Set(['/alive', '/health']);

// Hop-by-hop headers describe one connection, not the request (undici refuses several).
// X-API-Key is the control plane's key: clients that share one header set for both
// protocols (the contract's RemoteRuntime does) must not hand it to a sandbox.
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'host', 'x-api-key']);

interface Target {
  readonly runtime: LocalRuntime;
  readonly path: string;
}

export interface IngressOptions {
  readonly lookup: (runtimeId: string) => LocalRuntime | undefined;
  readonly faults: FaultInjector;
  /** The Runtime API key, which opens every runtime (as the control plane's /list shows every session key). */
  readonly apiKey: string;
}

export class Ingress {
  readonly #lookup: (runtimeId: string) => LocalRuntime | undefined;
  readonly #faults: FaultInjector;
  readonly #apiKey: string;
  readonly #tunnels = new Set<Duplex>();

  constructor(options: IngressOptions) {
    this.#lookup = options.lookup;
    this.#faults = options.faults;
    this.#apiKey = options.apiKey;
  }

  matches(url: string | undefined): boolean {
    return url?.startsWith(INGRESS_PREFIX) ?? false;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.#proxy(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) sendJson(res, error.status, { detail: error.detail });
      else if (!res.headersSent) sendJson(res, 502, { detail: 'runtime is not reachable' });
      else res.destroy();
    });
  };

  async #proxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await this.#faults.onRequest(`${req.method} /sandboxes`);
    const { runtime, path } = this.#target(req);
    const upstream = runtime.upstream;
    if (!upstream) throw new HttpError(502, 'runtime is not reachable');
    const body = await requestBody(req);
    // undici takes any emitter of 'abort' as a signal; an AbortController per request costs more.
    const gone = new EventEmitter();
    res.once('close', () => {
      if (!res.writableFinished) gone.emit('abort');
    });
    // stream() writes the sandbox's response straight into ours, without an intermediate Readable.
    await upstream.stream({ method: req.method as 'GET', path, headers: forwardHeaders(req.headers), body, signal: gone }, ({ statusCode, headers }) => {
      res.writeHead(statusCode, forwardHeaders(headers));
      return res;
    });
  }

  /** Finds the runtime a request is for and checks its key; throws the status the contract gives its state. */
  #target(req: IncomingMessage): Target {
    const rest = (req.url ?? '/').slice(INGRESS_PREFIX.length);
    const cut = rest.search(/[/?]/);
    const tail = cut === -1 ? '/' : rest.slice(cut);
    const path = tail.startsWith('/') ? tail : `/${tail}`;
    const runtime = this.#lookup(cut === -1 ? rest : rest.slice(0, cut)); // ids are hex: nothing to decode
    if (!runtime || runtime.status === 'stopped') throw new HttpError(404, 'runtime not found');
    if (!this.#admits(req, runtime, path)) throw new HttpError(401, 'missing or wrong X-Session-API-Key');
    if (runtime.status === 'paused') throw new HttpError(503, 'runtime is paused');
    return { runtime, path };
  }

  #admits(req: IncomingMessage, runtime: LocalRuntime, path: string): boolean {
    const query = path.indexOf('?');
    const queryKey = query === -1 ? undefined : (new URLSearchParams(path.slice(query + 1)).get('session_api_key') ?? undefined);
    const anyKey = queryKey !== undefined || headerValue(req, 'x-session-api-key') !== undefined || headerValue(req, 'x-api-key') !== undefined;
    if (!anyKey && headerValue(req, 'upgrade')?.toLowerCase() === 'websocket') return true; // first-frame auth, in the sandbox
    if ((req.method === 'GET' || req.method === 'HEAD') && OPEN_PATHS.has(query === -1 ? path : path.slice(0, query))) return true;
    const { sessionApiKey } = runtime.init;
    if (secretsEqual(headerValue(req, 'x-session-api-key'), sessionApiKey)) return true;
    if (secretsEqual(headerValue(req, 'x-api-key'), this.#apiKey)) return true;
    return secretsEqual(queryKey, sessionApiKey);
  }

  /** WebSocket upgrades (the agent-server's event socket) are tunnelled as raw TCP. */
  readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let target: Target;
    try {
      target = this.#target(req);
    } catch (error) {
      refuse(socket, error instanceof HttpError ? error : new HttpError(502, 'runtime is not reachable'));
      return;
    }
    const address = target.runtime.upstream && target.runtime.address;
    if (!address) {
      refuse(socket, new HttpError(502, 'runtime is not reachable'));
      return;
    }
    const where = address.socketPath === undefined ? { port: address.port, host: '127.0.0.1' } : { path: address.socketPath };
    const upstream: Socket = connect(where, () => {
      upstream.write(`${req.method} ${target.path} HTTP/1.1\r\n${rawHeaderLines(req)}\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    this.#tunnels.add(socket);
    const close = () => {
      this.#tunnels.delete(socket);
      upstream.destroy();
      socket.destroy();
    };
    upstream.on('error', close).on('close', close);
    socket.on('error', close).on('close', close);
  };

  /** Drops every open tunnel (on server shutdown). */
  closeTunnels(): void {
    for (const socket of this.#tunnels) socket.destroy();
    this.#tunnels.clear();
  }
}

function forwardHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !NOT_FORWARDED.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

/**
 * The body to send on: none, the bytes of a small one (one write instead of a stream's
 * several, which halves the ingress's cost per message), or the request stream itself.
 */
function requestBody(req: IncomingMessage): Promise<Buffer | IncomingMessage | null> | Buffer | IncomingMessage | null {
  if (req.headers['transfer-encoding'] !== undefined) return req;
  const length = Number(req.headers['content-length'] ?? 0);
  if (!(length > 0)) return null;
  if (length > SMALL_BODY_BYTES) return req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function rawHeaderLines(req: IncomingMessage): string {
  let lines = '';
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() !== 'x-api-key') lines += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  }
  return lines;
}

function refuse(socket: Duplex, error: HttpError): void {
  const body = JSON.stringify({ detail: error.detail });
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Bad Gateway'}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
