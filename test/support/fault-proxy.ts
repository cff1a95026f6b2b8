// A real HTTP proxy (127.0.0.1, port 0) that forwards everything to `target` and can
// play the faults a network plays after the server already acted: it forwards a chosen
// request, lets the server answer, then cuts the connection instead of passing the answer
// on, or holds the answer back for a while. WebSocket upgrades are tunnelled untouched.
import { createServer, request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface FaultRule {
  /** Which requests it applies to. */
  readonly matches: (method: string, path: string) => boolean;
  /**
   * `cut`: drop the connection once the server has answered; `hold`: pass the answer on
   * after `holdMs`; `refuse`: answer `status` itself, without forwarding.
   */
  readonly action: 'cut' | 'hold' | 'refuse';
  readonly holdMs?: number;
  /** For `refuse`. @default 413 */
  readonly status?: number;
  /** How many matching requests it applies to. @default 1 */
  readonly times?: number;
}

export interface FaultProxy {
  readonly url: string;
  /** Every request passed on, with the status the server answered (0 when none came). */
  readonly seen: Array<{ method: string; path: string; status: number }>;
  /** Requests each rule was applied to (by rule index). */
  readonly applied: number[];
  /** Resolves when rule `index` was first applied and the server had answered that request. */
  answered(index: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string, rules: readonly FaultRule[]): Promise<FaultProxy> {
  const upstream = new URL(target);
  const applied = rules.map(() => 0);
  const answeredCount = rules.map(() => 0);
  const waiters = rules.map(() => [] as Array<() => void>);
  const timers = new Set<NodeJS.Timeout>();
  const seen: FaultProxy['seen'] = [];

  const ruleFor = (req: IncomingMessage): number => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    return rules.findIndex((rule, i) => (applied[i] ?? 0) < (rule.times ?? 1) && rule.matches(req.method ?? 'GET', path));
  };

  const server = createServer((req, res) => {
    const index = ruleFor(req);
    if (index >= 0) applied[index] = (applied[index] ?? 0) + 1;
    const refusal = rules[index];
    if (refusal?.action === 'refuse') {
      req.resume();
      res.writeHead(refusal.status ?? 413, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: 'refused by the fault proxy' }));
      return;
    }
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        seen.push({ method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0] ?? '/', status: answer.statusCode ?? 0 });
        const rule = rules[index];
        if (rule) {
          answeredCount[index]! += 1;
          for (const wake of waiters[index]!.splice(0)) wake();
        }
        if (rule?.action === 'cut') {
          answer.resume();
          res.socket?.destroy();
          return;
        }
        const pass = () => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        };
        if (rule?.action !== 'hold') return pass();
        answer.pause();
        const timer = setTimeout(() => {
          timers.delete(timer);
          pass();
        }, rule.holdMs ?? 0);
        timers.add(timer);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.on('upgrade', (req, socket, head) => {
    const tunnel = connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      tunnel.write(`${req.method} ${req.url} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) tunnel.write(head);
      socket.pipe(tunnel).pipe(socket);
    });
    const close = () => {
      tunnel.destroy();
      socket.destroy();
    };
    tunnel.on('error', close);
    socket.on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    applied,
    seen,
    answered: (index) => new Promise((resolve) => (answeredCount[index]! > 0 ? resolve() : waiters[index]!.push(resolve))),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `POST …/api/conversations/{id}/events`: posting a user message. */
export const postsMessage = (method: string, path: string) => method === 'POST' && /\/api\/conversations\/[^/]+\/events$/.test(path);

/** `GET …/api/conversations/{id}/events/search`: reading events (a delivery reads its message's timestamp this way after the post). */
export const searchesEvents = (method: string, path: string) => method === 'GET' && /\/api\/conversations\/[^/]+\/events\/search/.test(path);
