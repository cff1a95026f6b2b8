// Helpers for the local Runtime API tests: a server on port 0 with a temporary data folder
// (closed after the test, whatever happens), plain undici calls, and polling.
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { RuntimeApiServer, RuntimeApiServerOptions } from '../../src/local-runtime/server.js';
import { createRuntimeApiServer } from '../../src/local-runtime/server.js';
import { statFields } from './proc.js';

export const API_KEY = 'test-api-key';

export interface TestServer extends RuntimeApiServer {
  readonly dataDir: string;
  readonly logs: string[];
  /** Calls the control plane with the API key; returns status and parsed JSON body. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
}

export interface Reply {
  readonly status: number;
  // Tests read whatever field they assert on.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** Starts a server that is closed (every sandbox stopped) after the test `t`, pass or fail. */
export async function startTestServer(t: Pick<TestContext, 'after'>, options: Partial<RuntimeApiServerOptions> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'local-runtime-'));
  const logs: string[] = [];
  const server = await createRuntimeApiServer({ apiKey: API_KEY, dataDir, stopGraceMs: 2000, log: (line) => logs.push(line), ...options });
  t.after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    http(method, `${server.url}${path}`, body, { 'x-api-key': API_KEY, ...headers });
  return { ...server, dataDir, logs, call };
}

/** One HTTP call; a string body is sent as is, anything else as JSON. */
export async function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await request(url, {
    method: method as 'GET',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.statusCode, body: parsed };
}

/** A file a sandbox command wrote in its own folder, found under the server's workspaces once it exists. */
export function workspaceFile(server: Pick<TestServer, 'dataDir'>, name: string): Promise<string> {
  const workspaces = join(server.dataDir, 'workspaces');
  return waitFor(`${name} in a workspace`, async () => {
    const entries = await readdir(workspaces, { recursive: true }).catch(() => [] as string[]);
    const found = entries.find((entry) => basename(entry) === name);
    return found === undefined ? undefined : join(workspaces, found);
  });
}

/** Polls `probe` until it returns a value other than undefined. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export interface Started {
  readonly runtime_id: string;
  readonly url: string;
  readonly session_api_key: string;
}

/** POST /start for a session; asserts nothing. */
export async function startRuntime(server: TestServer, sessionId: string, extra: Record<string, unknown> = {}): Promise<Started> {
  const reply = await server.call('POST', '/start', { image: 'local/runtime:latest', session_id: sessionId, ...extra });
  if (reply.status !== 200) throw new Error(`/start answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body as Started;
}

/** Polls GET /runtime/{id} until pod_status is `ready`; returns the pod statuses seen on the way. */
export async function waitReady(server: TestServer, runtimeId: string, timeoutMs = 15_000): Promise<string[]> {
  const seen: string[] = [];
  await waitFor(
    `runtime ${runtimeId} ready`,
    async () => {
      const { body } = await server.call('GET', `/runtime/${runtimeId}`);
      if (seen.at(-1) !== body.pod_status) seen.push(body.pod_status);
      return body.pod_status === 'ready' ? true : undefined;
    },
    timeoutMs,
  );
  return seen;
}

/** Calls the sandbox behind a runtime, with its session key. */
export function sandboxCall(runtime: Started, method: string, path: string, body?: unknown): Promise<Reply> {
  return http(method, `${runtime.url}${path}`, body, { 'x-session-api-key': runtime.session_api_key });
}

/** Creates a conversation in the sandbox and returns its id. */
export async function createConversation(runtime: Started): Promise<string> {
  const id = randomUUID();
  // In the folder named after its id, as the product asks for (the real server requires a workspace).
  const reply = await sandboxCall(runtime, 'POST', '/api/conversations', { agent: { llm: { model: 'none' } }, conversation_id: id, workspace: { kind: 'LocalWorkspace', working_dir: id } });
  if (reply.status !== 201) throw new Error(`create conversation answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body.id as string;
}

/** Posts a user message (a bash command for the built-in shell agent). */
export function sendText(runtime: Started, conversationId: string, text: string, run = true): Promise<Reply> {
  return sandboxCall(runtime, 'POST', `/api/conversations/${conversationId}/events`, { role: 'user', content: [{ type: 'text', text }], run });
}

/** True while any process of the group exists (a zombie does not count). */
export function groupAlive(pgid: number): boolean {
  // Zombies count as gone: a process whose parent died is re-parented to the machine's init,
  // and on some machines (a microVM's) init never reaps it.
  return readdirSync('/proc').some((entry) => {
    const [state, , pgrp] = (Number.isInteger(Number(entry)) && statFields(Number(entry))) || [];
    return Number(pgrp) === pgid && state !== 'Z' && state !== 'X';
  });
}
