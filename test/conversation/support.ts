// Checks the conversation scenario tests share: what the Runtime API reports for a
// session, where a conversation's commands run, and whether any process still lives
// there (read from /proc, so it also finds commands a sandbox left behind); and a
// proxy that slows chosen Runtime API calls, for races the local server is too fast for.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentConversationIdFor } from '../../src/activities/index.js';
import type { ConversationStack } from '../support/conversations.js';

/** Every runtime `GET /list` shows for the session, stopped ones included. */
export async function sessionRuntimes(stack: ConversationStack, sessionId: string) {
  return (await stack.runtimeApi.list()).runtimes.filter((runtime) => runtime.session_id === sessionId);
}

/**
 * Waits until the session has a runtime at the Runtime API (its POST /start answered). While
 * one activity provisions, that is how a test knows it is past the start: the workflow learns
 * the runtime's ID only once the runtime is up.
 */
export async function untilSessionRuntime(stack: ConversationStack, sessionId: string, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await stack.runtimeApi.getSession(sessionId)); await sleep(50)) {
    if (Date.now() > deadline) throw new Error(`session ${sessionId} had no runtime within ${timeoutMs} ms`);
  }
}

/** The session's folder: every sandbox of the session runs in it (`<dataDir>/workspaces/<sid>`). */
export function sessionDir(stack: ConversationStack, sessionId: string): string {
  return path.join(stack.dataDir, 'workspaces', sessionId);
}

/** Where the agent runs the conversation's commands. */
export function agentWorkspace(stack: ConversationStack, sessionId: string): string {
  return path.join(sessionDir(stack, sessionId), agentConversationIdFor(sessionId));
}

/** Pids of live (non-zombie) processes whose working directory is `dir` or below it. */
export async function processesIn(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = await readlink(`/proc/${entry}/cwd`);
      if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') found.push(Number(entry));
    } catch {
      // The process ended while we looked, or is not ours to inspect.
    }
  }
  return found;
}

/** Waits (briefly: a stop has already returned) until no process runs in `dir`; returns the survivors. */
export async function survivorsIn(dir: string, waitMs = 3_000): Promise<number[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const pids = await processesIn(dir);
    if (pids.length === 0 || Date.now() > deadline) return pids;
    await sleep(50);
  }
}

/** True while any process of the group exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface DelayingProxy {
  readonly url: string;
  /** Resolves when the first request to `key` (e.g. 'POST /start') has arrived. */
  arrived(key: string): Promise<void>;
  close(): Promise<void>;
}

/** A real HTTP proxy to `target` that holds requests to the given `METHOD /path` keys for that many ms. */
export async function startDelayingProxy(target: string, delays: Record<string, number>): Promise<DelayingProxy> {
  const upstream = new URL(target);
  const waiting = new Map<string, () => void>();
  const seen = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const key = `${req.method} ${req.url}`;
    seen.add(key);
    waiting.get(key)?.();
    const timer = setTimeout(() => {
      timers.delete(timer);
      const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => res.destroy());
      req.pipe(forward);
    }, delays[key] ?? 0);
    timers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrived: (key) => (seen.has(key) ? Promise.resolve() : new Promise((resolve) => waiting.set(key, resolve))),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
