// openEventStream against both agent servers: ours, reached through the local Runtime
// API's ingress (which tunnels the upgrade to the sandbox), and the real OpenHands agent
// server, started once for the file.
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'undici';
import {
  AgentServerClient,
  NetworkError,
  RuntimeDisconnectedError,
  RuntimePausedError,
  UnauthorizedError,
  messageText,
  openEventStream,
} from '../../src/runtime-api/index.js';
import type { AgentEvent, EventStream } from '../../src/runtime-api/index.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { startRuntime, startTestServer, waitFor, waitReady } from '../local-runtime/support.js';
import type { Started, TestServer } from '../local-runtime/support.js';

const STEP_MS = 30_000;

type Follower = AsyncIterator<AgentEvent>;

/** Events from `it` up to and including the first one `done` accepts. */
async function readUntil(it: Follower, done: (event: AgentEvent, seen: AgentEvent[]) => boolean): Promise<AgentEvent[]> {
  const seen: AgentEvent[] = [];
  for (;;) {
    const next = await it.next();
    assert.ok(!next.done, `the stream ended after ${seen.map(label).join(', ')}`);
    seen.push(next.value);
    if (done(next.value, seen)) return seen;
  }
}

const statusOf = (event: AgentEvent): unknown => (event.kind === 'ConversationStateUpdateEvent' && event['key'] === 'execution_status' ? event['value'] : undefined);
const isFullState = (event: AgentEvent | undefined) => event?.kind === 'ConversationStateUpdateEvent' && event['key'] === 'full_state';
const label = (event: AgentEvent) => (statusOf(event) !== undefined ? `status:${String(statusOf(event))}` : `${event.kind}:${event.source}`);
/** Ends once the run went to `running` and then left it. */
const runEnded = (event: AgentEvent, seen: AgentEvent[]) =>
  statusOf(event) !== undefined && statusOf(event) !== 'running' && seen.some((e) => statusOf(e) === 'running');

/** The snapshot both servers send first, with the conversation's id and status. */
function assertSnapshot(event: AgentEvent | undefined, conversationId: string, status: string): void {
  assert.ok(isFullState(event), `first frame: ${JSON.stringify(event)}`);
  const value = event?.['value'] as { id?: string; execution_status?: string };
  assert.equal(value.id, conversationId);
  assert.equal(value.execution_status, status);
}

/** First-frame auth by hand (no key in the query): the close code, or the first frame. */
async function firstFrameAuth(socketUrl: string, key: string): Promise<{ code?: number; first?: AgentEvent }> {
  const ws = new WebSocket(socketUrl);
  ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'auth', session_api_key: key })));
  return new Promise((resolve) => {
    ws.addEventListener('message', (e) => {
      resolve({ first: JSON.parse(String(e.data)) as AgentEvent });
      ws.close();
    });
    ws.addEventListener('close', (e) => resolve({ code: e.code }));
  });
}

const socketUrl = (baseUrl: string, conversationId: string) => `${baseUrl.replace(/^http/, 'ws')}/sockets/events/${conversationId}`;
const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }], run: true });

describe('event stream: our sandbox agent server, through the local Runtime API ingress', () => {
  let server: TestServer;
  let runtime: Started;
  let agent: AgentServerClient;
  // One Runtime API server for the suite: startTestServer's cleanup runs in the suite's after hook.
  const cleanups: Array<() => Promise<void>> = [];
  const suiteCleanup = { after: (fn: () => Promise<void>) => void cleanups.push(fn) } as unknown as Pick<TestContext, 'after'>;
  const open = (conversationId: string, extra: Partial<Parameters<typeof openEventStream>[0]> = {}) =>
    openEventStream({ baseUrl: runtime.url, conversationId, sessionApiKey: runtime.session_api_key, signal: AbortSignal.timeout(STEP_MS), ...extra });
  const create = async () => (await agent.createConversation({ agent: { llm: { model: 'shell' } }, workspace: { kind: 'LocalWorkspace', working_dir: 'project' } })).info.id;

  before(async () => {
    server = await startTestServer(suiteCleanup);
    runtime = await startRuntime(server, `es-${randomUUID()}`);
    await waitReady(server, runtime.runtime_id);
    agent = new AgentServerClient({ baseUrl: runtime.url, sessionApiKey: runtime.session_api_key });
  });
  after(async () => {
    await agent?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test('follows a turn: the state snapshot, the user message, running, the reply, the end of the run, in order', async () => {
    const id = await create();
    const stream = await open(id);
    const it = stream[Symbol.asyncIterator]();
    assertSnapshot((await it.next()).value, id, 'idle');
    await agent.sendMessage(id, text('echo hi'));
    const events = await readUntil(it, runEnded);
    const labels = events.map(label);
    const at = (name: string) => labels.indexOf(name);
    assert.equal(at('MessageEvent:user'), 0, labels.join(', '));
    assert.ok(at('status:running') > at('MessageEvent:user'), labels.join(', '));
    assert.ok(at('MessageEvent:agent') > at('status:running'), labels.join(', '));
    assert.equal(at('MessageEvent:agent'), events.length - 2, labels.join(', '));
    assert.equal(messageText(events[0]!), 'echo hi');
    assert.equal(messageText(events.at(-2)!), 'hi\n');
    // As on the real server, a snapshot follows the end of the run.
    assertSnapshot((await it.next()).value, id, statusOf(events.at(-1)!) as string);
    stream.close();
    assert.equal((await it.next()).done, true);
  });

  test('resends the events at or after a timestamp, then goes on live', async () => {
    const id = await create();
    const first = await open(id);
    const live = first[Symbol.asyncIterator]();
    await live.next();
    await agent.sendMessage(id, text('echo one'));
    const turn = await readUntil(live, runEnded);
    first.close();
    const reply = turn.find((e) => e.kind === 'MessageEvent' && e.source === 'agent')!;
    assert.ok(turn.indexOf(reply) > 0);

    // The reply's own timestamp as a string (verbatim), then as a Date (sent as UTC ISO 8601).
    for (const [afterTimestamp, command] of [
      [reply.timestamp, 'echo two'],
      [new Date(reply.timestamp), 'echo three'],
    ] as const) {
      const stored = (await agent.searchEvents(id)).items;
      const expected = stored.filter((e) => Date.parse(e.timestamp) >= Date.parse(reply.timestamp)).map((e) => e.id);
      assert.ok(expected.length < stored.length && expected[0] === reply.id, 'the reply is the first event resent');
      const stream = await open(id, { afterTimestamp });
      const it = stream[Symbol.asyncIterator]();
      assertSnapshot((await it.next()).value, id, statusOf(turn.at(-1)!) as string);
      const resent = await readUntil(it, (_e, seen) => seen.length === expected.length);
      assert.deepEqual(resent.map((e) => e.id), expected);
      await agent.sendMessage(id, text(command));
      const next = await readUntil(it, runEnded);
      assert.equal(messageText(next[0]!), command, 'then live events');
      stream.close();
    }
  });

  test('a wrong key is an UnauthorizedError; a wrong first-frame key closes with 4001, a right one subscribes', async () => {
    const id = await create();
    await assert.rejects(open(id, { sessionApiKey: 'wrong-key' }), UnauthorizedError);
    assert.deepEqual(await firstFrameAuth(socketUrl(runtime.url, id), 'wrong-key'), { code: 4001 });
    assertSnapshot((await firstFrameAuth(socketUrl(runtime.url, id), runtime.session_api_key)).first, id, 'idle');
  });

  test('an unknown conversation closes with 4004: RuntimeDisconnectedError', async () => {
    await assert.rejects(open(randomUUID()), RuntimeDisconnectedError);
  });

  test("aborting ends the iterator with the signal's reason; an aborted signal does not open", async () => {
    const id = await create();
    const controller = new AbortController();
    const stream = await open(id, { signal: controller.signal });
    const reason = new Error('caller gave up');
    const pending = (async () => {
      for await (const _event of stream) {
        // only the ending matters
      }
    })();
    await sleep(50);
    controller.abort(reason);
    await assert.rejects(pending, (error) => error === reason);
    await assert.rejects(open(id, { signal: AbortSignal.abort(reason) }), (error) => error === reason);
  });

  test('a paused runtime refuses the upgrade (RuntimePausedError); a stopped one ends an open stream (NetworkError)', async () => {
    const other = await startRuntime(server, `es-${randomUUID()}`);
    await waitReady(server, other.runtime_id);
    const client = new AgentServerClient({ baseUrl: other.url, sessionApiKey: other.session_api_key });
    const id = (await client.createConversation({ agent: { llm: { model: 'shell' } }, workspace: { kind: 'LocalWorkspace', working_dir: 'p' } })).info.id;
    await client.close();
    const openOther = () => openEventStream({ baseUrl: other.url, conversationId: id, sessionApiKey: other.session_api_key, signal: AbortSignal.timeout(STEP_MS) });
    const stream: EventStream = await openOther();
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    await server.call('POST', '/pause', { runtime_id: other.runtime_id });
    await assert.rejects(openOther(), RuntimePausedError);
    await server.call('POST', '/stop', { runtime_id: other.runtime_id });
    await assert.rejects(it.next(), (error) => error instanceof NetworkError && error.retryable);
  });
});

describe('event stream: the real OpenHands agent server', () => {
  const key = `real-${randomUUID()}`;
  let real: RealAgentServer;
  let agent: AgentServerClient;
  const open = (conversationId: string, extra: Partial<Parameters<typeof openEventStream>[0]> = {}) =>
    openEventStream({ baseUrl: real.url, conversationId, sessionApiKey: key, signal: AbortSignal.timeout(STEP_MS), ...extra });
  // An LLM nobody listens on: a turn fails at once, and still records its events.
  const create = async () =>
    (
      await agent.createConversation({
        agent: { kind: 'Agent', llm: { model: 'openai/none', api_key: 'x', base_url: 'http://127.0.0.1:9/v1', num_retries: 0 }, tools: [{ name: 'terminal' }] },
        workspace: { kind: 'LocalWorkspace', working_dir: join(real.dir, 'project') },
      })
    ).info.id;

  before(async () => {
    real = await startRealAgentServer(key);
    agent = new AgentServerClient({ baseUrl: real.url, sessionApiKey: key });
  });
  after(async () => {
    await agent?.close();
    await real?.close();
  });

  test('sends the full state first, then a turn in order, then the full state; resends since a timestamp, inclusive', async () => {
    const id = await create();
    const stream = await open(id);
    const it = stream[Symbol.asyncIterator]();
    assertSnapshot((await it.next()).value, id, 'idle');
    await agent.sendMessage(id, text('echo hi'));
    // The run's last status update can come before its last events; the snapshot after the run comes after all of them.
    const turn = await readUntil(it, (e, seen) => isFullState(e) && seen.some((x) => statusOf(x) === 'running'));
    stream.close();
    const labels = turn.map(label);
    assert.ok(labels.indexOf('MessageEvent:user') < labels.indexOf('status:running'), labels.join(', '));
    assert.equal(turn.map(statusOf).filter(Boolean).at(-1), 'error', labels.join(', '));
    assertSnapshot(turn.at(-1), id, 'error');
    const user = turn.find((e) => e.kind === 'MessageEvent' && e.source === 'user')!;
    assert.equal(messageText(user), 'echo hi');

    // Opened once the run is over: the real server interleaves events published during a resend with it.
    const resend = await open(id, { afterTimestamp: user.timestamp });
    const again = resend[Symbol.asyncIterator]();
    assertSnapshot((await again.next()).value, id, 'error');
    const stored = turn.filter((e) => !isFullState(e));
    const expected = stored.slice(stored.indexOf(user)).map((e) => e.id);
    const resent = await readUntil(again, (_e, seen) => seen.length === expected.length);
    assert.deepEqual(resent.map((e) => e.id), expected, 'from the user message on, inclusive');
    resend.close();
  });

  test('a wrong query key is refused (HTTP 403) as UnauthorizedError; a wrong first-frame key closes with 4001', async () => {
    const id = await create();
    await assert.rejects(open(id, { sessionApiKey: 'wrong-key' }), UnauthorizedError);
    assert.deepEqual(await firstFrameAuth(socketUrl(real.url, id), 'wrong-key'), { code: 4001 });
    assertSnapshot((await firstFrameAuth(socketUrl(real.url, id), key)).first, id, 'idle');
  });

  test('an unknown conversation closes with 4004: RuntimeDisconnectedError', async () => {
    await assert.rejects(open(randomUUID()), RuntimeDisconnectedError);
  });
});

interface RealAgentServer {
  readonly url: string;
  readonly dir: string;
  close(): Promise<void>;
}

/** Starts `agent-server` in its own folder (its state and tmux sockets live there) and waits until it answers. */
async function startRealAgentServer(key: string): Promise<RealAgentServer> {
  // scripts/test.ts sets the variable to a python with the package, or to its `agent-server` script.
  // TODO: drop the fallback (and resolve through src/tools/agent-server.ts) once every runner sets it.
  const bin = process.env['OPENHANDS_AGENT_SERVER_PATH'] ?? '/tmp/ohs/venv/bin/agent-server';
  assert.ok(existsSync(bin), `the real agent server is not installed at ${bin} (set OPENHANDS_AGENT_SERVER_PATH)`);
  const command = basename(bin) === 'agent-server' ? [bin] : [bin, '-m', 'openhands.agent_server'];
  // A free port can be taken by another run before the server binds it: then try another.
  for (let attempt = 1; ; attempt += 1) {
    const started = await launchRealAgentServer(command, key);
    if (started !== 'port taken') return started;
    assert.ok(attempt < 3, 'the real agent server found its port taken three times');
  }
}

async function launchRealAgentServer([bin, ...args]: string[], key: string): Promise<RealAgentServer | 'port taken'> {
  // Short: tmux's socket path must stay under 108 bytes.
  const dir = await mkdtemp('/tmp/es-real-');
  const port = await freePort();
  // HOME too: the terminal's interactive bash reads ~/.bashrc, which may hang (a stale pyenv lock).
  const env = { ...process.env, LITELLM_LOCAL_MODEL_COST_MAP: 'True', OPENHANDS_SUPPRESS_BANNER: '1', OH_SESSION_API_KEYS_0: key, TMUX_TMPDIR: dir, HOME: dir };
  const child = spawn(bin!, [...args, '--host', '127.0.0.1', '--port', String(port)], { cwd: dir, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const close = () => stopRealAgentServer(child, dir);
  try {
    // An authenticated call: only our server knows this key, whoever else listens on the port.
    await waitFor(
      'the real agent server to answer',
      async () => {
        if (child.exitCode !== null) return 'exited';
        const res = await fetch(`${url}/api/conversations/count`, { headers: { 'X-Session-API-Key': key } }).catch(() => undefined);
        await res?.body?.cancel();
        return res?.ok ? 'ready' : undefined;
      },
      90_000,
    ).then((state) => assert.equal(state, 'ready', `the real agent server exited: ${stderr}`));
  } catch (error) {
    await close();
    if (/address already in use/i.test(stderr)) return 'port taken';
    throw error;
  }
  return { url, dir, close };
}

async function stopRealAgentServer(child: ChildProcess, dir: string): Promise<void> {
  const group = -child.pid!;
  const exited = child.exitCode === null ? once(child, 'exit') : Promise.resolve();
  try {
    process.kill(group, 'SIGTERM');
  } catch {
    // already gone
  }
  if ((await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])) === false) {
    process.kill(group, 'SIGKILL');
    await exited;
  }
  // tmux servers detach from the process group: end each by its socket.
  const socketDir = join(dir, `tmux-${process.getuid?.() ?? 0}`);
  const sockets = existsSync(socketDir) ? await readdir(socketDir) : [];
  for (const name of sockets) {
    const tmux = spawn('tmux', ['-S', join(socketDir, name), 'kill-server'], { stdio: 'ignore' });
    await once(tmux, 'exit');
  }
  await rm(dir, { recursive: true, force: true });
}
