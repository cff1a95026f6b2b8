// main.ts as the 'process' driver runs it: a real child process that announces its port,
// serves, refuses bad environment, and leaves no command behind on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Api, processAlive, readPid, sleep, waitFor } from './support.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const entry = 'src/local-runtime/sandbox/main.ts';

function spawnSandbox(
  t: TestContext,
  env: Record<string, string>,
  detached = false,
  argv: readonly string[] = [process.execPath, '--import', 'tsx', entry],
): { child: ChildProcess; stderr: () => string } {
  const { SANDBOX_WORKSPACE: _w, SESSION_API_KEY: _k, ...parentEnv } = process.env;
  const [command = process.execPath, ...args] = argv;
  const child = spawn(command, args, {
    cwd: projectRoot,
    env: { ...parentEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, stderr: () => stderr };
}

async function firstLine(child: ChildProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  return line;
}

test('main.ts announces its port, serves, and exits 0 on SIGTERM leaving no command', async (t) => {
  const workspace = await mkdtemp(join(tmpdir(), 'sandbox-main-'));
  t.after(() => rm(workspace, { recursive: true, force: true }));
  const { child, stderr } = spawnSandbox(t, { SANDBOX_WORKSPACE: workspace, SESSION_API_KEY: 'main-key', OH_SECRET_THING: 'hidden' });
  const announced = JSON.parse(await firstLine(child)) as { event: string; port: number };
  assert.equal(announced.event, 'listening');
  const api = new Api(`http://127.0.0.1:${announced.port}`, 'main-key');
  assert.deepEqual(await api.call('GET', '/alive'), { status: 200, body: { status: 'ok' } });
  assert.equal((await new Api(api.url, 'wrong').call('GET', '/api/conversations/count')).status, 401);

  const id = await api.create();
  await api.send(id, 'env > env.txt; sleep 30 & echo $! > sleep.pid; wait');
  const pid = await readPid(join(workspace, id, 'sleep.pid'));
  const env = await readFile(join(workspace, id, 'env.txt'), 'utf8');
  assert.doesNotMatch(env, /main-key|SESSION_API_KEY|OH_SECRET_THING/);
  assert.ok(processAlive(pid));

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0, stderr());
  assert.equal(processAlive(pid), false, 'the running command was killed');
});

test('a sandbox frozen as a process group resumes without its commands timing out', async (t) => {
  const workspace = await mkdtemp(join(tmpdir(), 'sandbox-main-'));
  t.after(() => rm(workspace, { recursive: true, force: true }));
  // As the 'process' driver does: the sandbox leads its own group; SIGSTOP on the group freezes it all.
  const { child } = spawnSandbox(t, { SANDBOX_WORKSPACE: workspace, SANDBOX_COMMAND_TIMEOUT_MS: '2000' }, true);
  const group = child.pid as number;
  t.after(() => {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const { port } = JSON.parse(await firstLine(child)) as { port: number };
  const api = new Api(`http://127.0.0.1:${port}`);
  const id = await api.create();
  await api.send(id, 'while true; do echo x >> tick.log; sleep 0.05; done');
  const file = join(workspace, id, 'tick.log');
  const size = (): number => (existsSync(file) ? statSync(file).size : 0);
  await waitFor(() => size() > 10, 5000, 'ticks');
  process.kill(-group, 'SIGSTOP');
  await sleep(3000); // longer than the time limit
  process.kill(-group, 'SIGCONT');
  const resumed = size();
  await waitFor(() => size() > resumed + 10, 2000, 'ticks after SIGCONT');
  assert.equal(await api.status(id), 'running', 'the frozen time did not count against the limit');
  await api.waitForStatus(id, 'finished', 5000);
  assert.equal((await api.replies(id))[0]?.timed_out, true, 'the limit still applies to running time');
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  assert.equal(((await exited) as [number | null])[0], 0);
});

test('main.ts stops itself, and its commands, when its parent dies', async (t) => {
  const workspace = await mkdtemp(join(tmpdir(), 'sandbox-main-'));
  t.after(() => rm(workspace, { recursive: true, force: true }));
  // A parent shell that we can SIGKILL, as a crashing Runtime API server would die.
  const { child: parent } = spawnSandbox(t, { SANDBOX_WORKSPACE: workspace }, false, [
    'bash',
    '-c',
    `"${process.execPath}" --import tsx ${entry} & wait`,
  ]);
  const { port } = JSON.parse(await firstLine(parent)) as { port: number };
  const api = new Api(`http://127.0.0.1:${port}`);
  const id = await api.create();
  await api.send(id, 'echo $PPID > bash-parent.pid; sleep 30 & echo $! > sleep.pid; wait');
  const [sandbox, sleeper] = [await readPid(join(workspace, id, 'bash-parent.pid')), await readPid(join(workspace, id, 'sleep.pid'))];
  t.after(() => {
    for (const pid of [sandbox, sleeper]) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  parent.kill('SIGKILL');
  await waitFor(() => !processAlive(sandbox), 5000, 'the orphaned sandbox to exit');
  assert.equal(processAlive(sleeper), false, 'its command went with it');
});

test('main.ts refuses bad environment with exit 2, naming the variable', async (t) => {
  for (const [env, variable] of [
    [{}, 'SANDBOX_WORKSPACE'],
    [{ SANDBOX_WORKSPACE: tmpdir(), SANDBOX_PORT: 'eighty' }, 'SANDBOX_PORT'],
    [{ SANDBOX_WORKSPACE: tmpdir(), SANDBOX_COMMAND_TIMEOUT_MS: '-5' }, 'SANDBOX_COMMAND_TIMEOUT_MS'],
  ] as const) {
    const { child, stderr } = spawnSandbox(t, env);
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2, variable);
    assert.match(stderr(), new RegExp(variable));
  }
});
