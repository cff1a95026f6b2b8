// Choosing a runtime's agent, and what happens when the OpenHands agent server cannot be
// found: at start-up when it is the default, at the runtime's start when an image asks for it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { chooseAgent, runtimeFolder } from '../../src/local-runtime/agents/agent.js';
import { tmuxTmpdir } from '../../src/local-runtime/agents/openhands.js';
import { createRuntimeApiServer } from '../../src/local-runtime/server.js';
import { ToolNotFoundError } from '../../src/temporal/tool-resolver.js';
import { resolveAgentServer } from '../../src/tools/agent-server.js';
import { processesWith } from './proc.js';
import { groupAlive, startRuntime, startTestServer, waitFor } from './support.js';

describe('choosing the agent', () => {
  test('a command running the OpenHands agent server, or an image named openhands, picks openhands', () => {
    const pick = (request: { image: string; command?: string | string[] }) => chooseAgent(request, 'shell');
    assert.equal(pick({ image: 'x', command: ['/usr/local/bin/openhands-agent-server', '--port', '60000'] }), 'openhands');
    assert.equal(pick({ image: 'x', command: '/usr/local/bin/openhands-agent-server --port 60000' }), 'openhands');
    assert.equal(pick({ image: 'x', command: ['python', '-m', 'openhands.agent_server'] }), 'openhands');
    assert.equal(pick({ image: 'ghcr.io/openhands/agent-server:1.58.2-python' }), 'openhands');
    assert.equal(pick({ image: 'local/agent-server:latest' }), 'shell', 'the project\'s default image leaves it to RUNTIME_AGENT');
    assert.equal(pick({ image: 'x', command: ['my-agent-server-wrapper'] }), 'shell');
    assert.equal(chooseAgent({ image: 'local/agent-server:latest' }, 'openhands'), 'openhands');
  });

  test('working_dir is a path inside the runtime\'s folder, and cannot climb out of it', () => {
    assert.equal(runtimeFolder('/data/ws/s1', undefined), '/data/ws/s1');
    assert.equal(runtimeFolder('/data/ws/s1', '/'), '/data/ws/s1');
    assert.equal(runtimeFolder('/data/ws/s1', '/workspace'), '/data/ws/s1/workspace');
    assert.equal(runtimeFolder('/data/ws/s1', 'openhands/code/'), '/data/ws/s1/openhands/code');
    assert.equal(runtimeFolder('/data/ws/s1', '../../../etc'), '/data/ws/s1/etc');
  });

  test('the tmux folder is short enough for tmux\'s socket path', () => {
    const dir = tmuxTmpdir('0123456789abcdef01234567');
    assert.ok(Buffer.byteLength(`${dir}/tmux-4294967295/openhands-${'f'.repeat(32)}`) <= 107, dir);
  });
});

describe('an OpenHands agent server that cannot be found', () => {
  const missing = () => resolveAgentServer({ explicitPath: '/nonexistent/agent-server', toolsDir: '/nonexistent' });

  test('as the default agent: the server does not start, and says what it tried', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'local-runtime-'));
    try {
      const starting = createRuntimeApiServer({ apiKey: 'k', dataDir, agent: 'openhands', openhands: { server: missing }, log: () => {} });
      await assert.rejects(starting, (error: unknown) => error instanceof ToolNotFoundError && /OPENHANDS_AGENT_SERVER_PATH=\/nonexistent\/agent-server/.test(error.message));
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('asked for by an image: that runtime fails (crashloopbackoff, with the reason); shell runtimes go on', async (t) => {
    const server = await startTestServer(t, { openhands: { server: missing }, maxRestarts: 1 });
    const openhands = await startRuntime(server, 'wants-openhands', { image: 'ghcr.io/openhands/agent-server:latest' });
    const info = await waitFor('crashloopbackoff', async () => {
      const { body } = await server.call('GET', `/sessions/wants-openhands`);
      return body.pod_status === 'crashloopbackoff' ? body : undefined;
    });
    assert.equal(info.runtime_id, openhands.runtime_id);
    assert.match(info.restart_reasons[0], /^failed to start: could not find or install openhands-agent-server/);
    assert.ok(server.logs.some((line) => line.includes('not an executable file')), 'the log has every attempt');
    const shell = await startRuntime(server, 'wants-shell');
    await waitFor('the shell runtime', async () => ((await server.call('GET', `/runtime/${shell.runtime_id}`)).body.pod_status === 'ready' ? true : undefined));
  });

  test('the inproc driver runs only the shell agent', async () => {
    await assert.rejects(createRuntimeApiServer({ apiKey: 'k', dataDir: tmpdir(), driver: 'inproc', agent: 'openhands' }), /inproc driver runs only the shell agent/);
  });
});

describe('an agent whose helpers leave its process group', () => {
  test('ends with them when the server is killed with SIGKILL', async (t) => {
    const mark = randomBytes(6).toString('hex');
    const root = path.resolve(import.meta.dirname, '..', '..');
    const server = spawn(process.execPath, ['--import', 'tsx', 'test/local-runtime/fixtures/tethered-agent.ts'], { cwd: root, env: { ...process.env, MARK: mark } });
    t.after(() => {
      if (server.exitCode === null) server.kill('SIGKILL');
      for (const { pid } of processesWith('MARK', mark)) process.kill(pid, 'SIGKILL');
    });
    const pid = Number((await once(server.stdout, 'data')).toString().trim());
    const helpers = await waitFor('the agent and its helper', async () => {
      const found = processesWith('MARK', mark).filter((p) => /^sleep 60[01]$/.test(p.args));
      return found.length === 2 ? found : undefined;
    });
    assert.ok(groupAlive(pid));
    server.kill('SIGKILL');
    await once(server, 'exit');
    // The wrapper notices within a second, gives the agent up to 5 s to stop, then kills by tag.
    await waitFor('every process of the agent to end', async () => (processesWith('MARK', mark).length === 0 ? true : undefined), 10_000);
    await waitFor('the wrapper to exit and be reaped', async () => (groupAlive(pid) ? undefined : true), 3000);
    assert.ok(helpers.some((p) => p.session !== String(pid)), 'the helper had left the group');
  });
});
