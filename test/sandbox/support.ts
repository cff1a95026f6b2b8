// Shared helpers for the sandbox agent server tests: a real server on port 0 in a
// temporary workspace, a small JSON client, and process/poll helpers.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { request } from 'undici';
import { startAgentServer } from '../../src/local-runtime/sandbox/agent-server.js';
import type { AgentServerOptions, RunningAgentServer } from '../../src/local-runtime/sandbox/agent-server.js';

export const API_KEY = 'test-session-key';
export const AGENT = { llm: { model: 'shell', api_key: 'sk-not-a-real-key' } };
/** A relative working_dir resolves against the server's folder, as on the real agent server. */
export const workspaceFor = (id: string) => ({ kind: 'LocalWorkspace', working_dir: id });

export interface Reply {
  readonly status: number;
  readonly body: unknown;
}

export class Api {
  constructor(
    readonly url: string,
    readonly key: string | undefined = API_KEY,
  ) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await request(`${this.url}${path}`, {
      method: method as 'GET',
      headers: {
        ...(this.key === undefined ? {} : { 'x-session-api-key': this.key }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text === '' ? undefined : JSON.parse(text) };
  }

  /** Creates a conversation in the folder named after its id (as the product does) and returns the id. */
  async create(extra: Record<string, unknown> = {}): Promise<string> {
    const id = typeof extra['conversation_id'] === 'string' ? extra['conversation_id'] : randomUUID();
    const reply = await this.call('POST', '/api/conversations', { agent: AGENT, conversation_id: id, workspace: workspaceFor(id), ...extra });
    if (reply.status !== 201) throw new Error(`create failed: ${reply.status} ${JSON.stringify(reply.body)}`);
    return (reply.body as { id: string }).id;
  }

  async send(id: string, text: string, run = true, headers: Record<string, string> = {}): Promise<Reply> {
    return this.call('POST', `/api/conversations/${id}/events`, { role: 'user', content: [{ type: 'text', text }], run }, headers);
  }

  async status(id: string): Promise<string> {
    const reply = await this.call('GET', `/api/conversations/${id}`);
    return (reply.body as { execution_status: string }).execution_status;
  }

  async waitForStatus(id: string, status: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(async () => (await this.status(id)) === status, timeoutMs, `status ${status}`);
  }

  /** Every event of the conversation, oldest first, following the cursor. */
  async events(id: string, kind?: string): Promise<Record<string, unknown>[]> {
    const all: Record<string, unknown>[] = [];
    let page: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '100', ...(kind ? { kind } : {}), ...(page ? { page_id: page } : {}) });
      const reply = await this.call('GET', `/api/conversations/${id}/events/search?${query}`);
      const body = reply.body as { items: Record<string, unknown>[]; next_page_id: string | null };
      all.push(...body.items);
      page = body.next_page_id;
    } while (page !== null);
    return all;
  }

  /** The text of each agent reply, in order. */
  async replies(id: string): Promise<{ text: string; exit_code: number; timed_out: boolean; truncated: boolean }[]> {
    const events = await this.events(id, 'MessageEvent');
    return events
      .filter((e) => e['source'] === 'agent')
      .map((e) => {
        const message = e['llm_message'] as { content: { text: string }[] };
        return { ...(e as { exit_code: number; timed_out: boolean; truncated: boolean }), text: message.content.map((c) => c.text).join('') };
      });
  }
}

export interface TestServer {
  readonly server: RunningAgentServer;
  readonly api: Api;
  readonly workspaceDir: string;
}

/** A real agent server in a fresh temporary folder, closed and removed when the test ends. */
export async function startTestServer(t: TestContext, options: Partial<AgentServerOptions> = {}): Promise<TestServer> {
  const workspaceDir = await mkdtemp(join(tmpdir(), 'sandbox-test-'));
  const server = await startAgentServer({ sessionApiKeys: [API_KEY], workspaceDir, ...options });
  t.after(async () => {
    await server.close();
    await rm(workspaceDir, { recursive: true, force: true });
  });
  return { server, api: new Api(server.url), workspaceDir };
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Alive = exists and is not a zombie (here PID 1 does not reap orphans, so zombies linger). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Waits until the file exists and holds a pid, and returns it. */
export async function readPid(path: string): Promise<number> {
  await waitFor(() => existsSync(path) && /^\d+\s*$/.test(readFileSync(path, 'utf8')), 10_000, path);
  return Number(readFileSync(path, 'utf8').trim());
}
