// A real HTTP server (node:http, 127.0.0.1, port 0) whose answers each test scripts per
// method + path, and which records every request it receives. It exists to drive
// clients through error paths a real server rarely produces on demand (502, a stalled
// body, a bad JSON 2xx). Unscripted routes answer 501 so a missing script fails loudly.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedResponse {
  /** @default 200 */
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. Omit for an empty body. */
  body?: unknown;
  /** Wait this long before sending status and headers (headers timeout). */
  delayMs?: number;
  /** Send headers at once, then wait this long before the body (body timeout). */
  bodyDelayMs?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  /** Header names lower-cased, as node reports them. */
  headers: IncomingHttpHeaders;
  body: string;
}

type Script = ScriptedResponse | ((request: RecordedRequest) => ScriptedResponse);

export interface ScriptedServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Answer `method path` (path without query) with `response` until scripted again. */
  script(method: string, path: string, response: Script): void;
  close(): Promise<void>;
}

export async function startScriptedServer(): Promise<ScriptedServer> {
  const scripts = new Map<string, Script>();
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const server: Server = createServer((req, res) => {
    void record(req).then((recorded) => {
      requests.push(recorded);
      const script = scripts.get(`${recorded.method} ${recorded.path}`);
      const response = typeof script === 'function' ? script(recorded) : (script ?? { status: 501, body: { detail: `not scripted: ${recorded.method} ${recorded.path}` } });
      later(response.delayMs ?? 0, () => respond(res, response, later));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (method, path, response) => scripts.set(`${method.toUpperCase()} ${path}`, response),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

async function record(req: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const url = new URL(req.url ?? '/', 'http://scripted.invalid');
  return { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
}

function respond(res: ServerResponse, response: ScriptedResponse, later: (ms: number, fn: () => void) => void): void {
  if (res.destroyed) return;
  const payload = response.body === undefined ? '' : typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
  const headers: Record<string, string> = { 'content-length': String(Buffer.byteLength(payload)), ...response.headers };
  if (typeof response.body !== 'string' && response.body !== undefined) headers['content-type'] ??= 'application/json';
  res.writeHead(response.status ?? 200, headers);
  if (response.bodyDelayMs === undefined) {
    res.end(payload);
    return;
  }
  res.flushHeaders();
  later(response.bodyDelayMs, () => {
    if (!res.destroyed) res.end(payload);
  });
}
