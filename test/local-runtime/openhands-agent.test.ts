// The real OpenHands agent server (openhands-agent-server 1.58.2) in local runtimes. Its
// cold start takes 10-30 s, so one server with two runtimes serves the whole file, in
// order. scripts/test.ts has found or installed the server and names it in
// OPENHANDS_AGENT_SERVER_PATH; this file never installs (install: false).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, test } from 'node:test';
import { findProcesses } from '../../src/local-runtime/sandbox/process-tree.js';
import { PROJECT_TOOLS_DIR, resolveAgentServer } from '../../src/tools/agent-server.js';
import type { Started, TestServer } from './support.js';
import { groupAlive, http, sandboxCall, startRuntime, startTestServer, waitFor, waitReady } from './support.js';
import { environOf, openFilesLimit, processesWith, stateOf } from './proc.js';

const READY_TIMEOUT_MS = 180_000;

describe('the OpenHands agent server in local runtimes', () => {
  const cleanups: Array<() => Promise<void>> = [];
  // Every process of a runtime inherits its /start environment, so this finds them all,
  // wherever they went (tmux servers and the server's bash commands leave its process group).
  const marks = { a: `a-${randomBytes(6).toString('hex')}`, b: `b-${randomBytes(6).toString('hex')}` };
  let server: TestServer;
  let a: Started;
  let b: Started;
  let coldStartMs = 0;

  before(async () => {
    const agentServer = await resolveAgentServer({ explicitPath: process.env.OPENHANDS_AGENT_SERVER_PATH, toolsDir: PROJECT_TOOLS_DIR, install: false });
    process.env.DC_TEST_SERVER_SECRET = 'must not reach a runtime';
    // startTestServer closes the server in an after() of the context it is given; a suite's
    // before() has no such context, so its hooks are collected and run by the suite's after().
    const hooks = { after: (fn: () => Promise<void>) => void cleanups.push(fn) };
    server = await startTestServer(hooks as unknown as Pick<TestContext, 'after'>, { agent: 'openhands', openhands: { server: agentServer } });
    const started = Date.now();
    [a, b] = await Promise.all([
      startRuntime(server, 'oh-a', { environment: { RUNTIME_MARK: marks.a } }),
      startRuntime(server, 'oh-b', { environment: { RUNTIME_MARK: marks.b }, working_dir: '/workspace' }),
    ]);
    await Promise.all([waitReady(server, a.runtime_id, READY_TIMEOUT_MS), waitReady(server, b.runtime_id, READY_TIMEOUT_MS)]);
    coldStartMs = Date.now() - started;
  });
  /** The agent server's own process: in its jail, below bubblewrap (the sandbox's pid). */
  const agentPid = (runtime: Started): Promise<number> =>
    waitFor('the agent server process', async () => {
      for (const pid of findProcesses({ roots: [server.sandboxPid(runtime.runtime_id)!] })) {
        // bubblewrap, setpriv and the wrapper bash name the server in their command lines too.
        const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
        if (comm.startsWith('python') || comm.startsWith('agent-server')) return pid;
      }
      return undefined;
    });

  after(async () => {
    delete process.env.DC_TEST_SERVER_SECRET;
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test('/alive answers without a key; the API wants the runtime\'s own session key', async (t) => {
    t.diagnostic(`two runtimes cold-started to ready in ${(coldStartMs / 1000).toFixed(1)} s`);
    for (const runtime of [a, b]) {
      const alive = await http('GET', `${runtime.url}/alive`);
      assert.deepEqual([alive.status, alive.body.status], [200, 'ok']);
      assert.equal((await http('GET', `${runtime.url}/api/conversations/search`)).status, 401);
      const other = runtime === a ? b : a;
      const wrongKey = await http('GET', `${runtime.url}/api/conversations/search`, undefined, { 'x-session-api-key': other.session_api_key });
      assert.equal(wrongKey.status, 401, 'another runtime\'s key does not open this one');
      const own = await sandboxCall(runtime, 'GET', '/api/conversations/search');
      assert.deepEqual([own.status, own.body.items], [200, []]);
    }
    assert.notEqual(a.session_api_key, b.session_api_key);
  });

  test('each runtime has its own folder, tmux folder and key, 65536 open files, and the /start environment only', async () => {
    const workspaces = path.join(server.dataDir, 'workspaces');
    const expected = { a: path.join(workspaces, 'oh-a'), b: path.join(workspaces, 'oh-b', 'workspace') }; // b asked for working_dir /workspace
    // 65536, unless this machine's hard limit is lower (a container's often is): then that.
    const ours = /^Max open files\s+\d+\s+(\d+|unlimited)/m.exec(await readFile('/proc/self/limits', 'utf8'))![1]!;
    const wantedOpenFiles = ours === 'unlimited' ? 65536 : Math.min(65536, Number(ours));
    const tmuxDirs = new Set<string>();
    for (const [name, runtime] of [['a', a], ['b', b]] as const) {
      const pid = await agentPid(runtime);
      assert.equal(await readlink(`/proc/${pid}/cwd`), expected[name]);
      assert.ok((await stat(path.join(expected[name], 'workspace', 'conversations'))).isDirectory(), 'its state is in its own folder');
      const env = await environOf(pid);
      assert.equal(env.RUNTIME_MARK, marks[name], 'the /start environment reaches the server');
      assert.equal(env.OH_SESSION_API_KEYS_0, runtime.session_api_key);
      assert.equal(env.DC_TEST_SERVER_SECRET, undefined, 'nothing of ours beyond a few harmless variables');
      assert.equal(env.LITELLM_LOCAL_MODEL_COST_MAP, 'True');
      assert.equal(env.OH_MAX_CONCURRENT_RUNS, '4');
      assert.ok(env.TMUX_TMPDIR && (await stat(env.TMUX_TMPDIR)).isDirectory());
      tmuxDirs.add(env.TMUX_TMPDIR);
      // Its terminal's interactive bash reads ~/.bashrc: never the user's (one that hangs stalled every command).
      assert.ok(env.HOME?.startsWith(`${expected[name]}/`), `HOME ${env.HOME} is the runtime's own`);
      assert.notEqual(env.HOME, process.env.HOME);
      assert.equal(await openFilesLimit(pid), wantedOpenFiles, 'the soft open-file limit is raised');
    }
    assert.equal(tmuxDirs.size, 2, 'a tmux folder per runtime');
  });

  test('pause freezes the server and what it started outside its group (a tmux server, a bash command); resume thaws them', async () => {
    const pid = await agentPid(a);
    const command = `tmux new-session -d -s held 'sleep 611'; sleep 612`;
    const started = await sandboxCall(a, 'POST', '/api/bash/start_bash_command', { command, timeout: 600 });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    // The tmux server, the command in its pane, and the bash command itself (the tmux client exits at once).
    const helpers = await waitFor('a tmux server and the command', async () => {
      const found = processesWith('RUNTIME_MARK', marks.a).filter((p) => p.comm === 'tmux: server' || /^sleep 61[12]$/.test(p.args));
      return found.length === 3 ? found : undefined;
    });
    const own = processesWith('RUNTIME_MARK', marks.a).find((p) => p.pid === pid)!;
    assert.ok(helpers.some((p) => p.session !== own.session), 'some helpers left the server\'s session: a group signal alone would miss them');

    assert.equal((await server.call('POST', '/pause', { runtime_id: a.runtime_id })).status, 200);
    // Sent, a SIGSTOP takes effect once its process next runs, which on a busy machine can be a
    // moment later; a process that escaped the freeze would stay running for good.
    for (const p of [{ pid }, ...helpers]) await waitFor(`pid ${p.pid} to be stopped`, async () => (stateOf(p.pid) === 'T' ? true : undefined), 5000);
    assert.equal((await sandboxCall(a, 'GET', '/alive')).status, 503);

    assert.equal((await server.call('POST', '/resume', { runtime_id: a.runtime_id })).status, 200);
    await waitReady(server, a.runtime_id, 30_000);
    for (const p of [{ pid }, ...helpers]) assert.notEqual(stateOf(p.pid), 'T', `pid ${p.pid} runs again`);
    assert.equal((await sandboxCall(a, 'GET', '/alive')).status, 200);
  });

  test('stop leaves no process behind, tmux servers included, and removes the tmux folder', async () => {
    for (const [runtime, mark] of [[a, marks.a], [b, marks.b]] as const) {
      const pid = server.sandboxPid(runtime.runtime_id)!;
      const { TMUX_TMPDIR: tmuxDir } = await environOf(pid);
      assert.ok(processesWith('RUNTIME_MARK', mark).length > 0);
      assert.equal((await server.call('POST', '/stop', { runtime_id: runtime.runtime_id })).status, 200);
      assert.equal(groupAlive(pid), false);
      assert.deepEqual(processesWith('RUNTIME_MARK', mark), [], 'nothing of the runtime survives');
      await assert.rejects(stat(tmuxDir!), { code: 'ENOENT' });
      assert.equal((await http('GET', `${runtime.url}/alive`)).status, 404);
    }
  });
});
