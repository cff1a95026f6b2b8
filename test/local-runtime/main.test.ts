// The runtime-api process: `npm run runtime-api` prints its URL and key, and leaves no
// sandbox behind when it is told to stop, or when it exits without cleaning up.
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRuntimeApiServer } from '../../src/local-runtime/server.js';
import { findProcesses } from '../../src/local-runtime/sandbox/process-tree.js';
import { isRunning } from './proc.js';
import { groupAlive, http, waitFor } from './support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function spawnTs(script: string, env: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'pipe' });
}

/** Children of `parent` that lead their own process group (its sandboxes; esbuild is another child). */
async function sandboxesOf(parent: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    if (ppid === parent && pgrp === Number(entry)) pids.push(Number(entry));
  }
  return pids;
}

describe('runtime-api process', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} stops every sandbox and exits 0`, async (t) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'runtime-api-main-'));
      const child = spawnTs('src/local-runtime/main.ts', { RUNTIME_API_PORT: '0', RUNTIME_API_KEY: '', DATA_DIR: dataDir });
      t.after(async () => {
        if (child.exitCode === null) child.kill('SIGKILL');
        await rm(dataDir, { recursive: true, force: true });
      });
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const url = /^Runtime API: (\S+)$/.exec(String((await lines.next()).value))?.[1];
      const key = /^RUNTIME_API_KEY=(\S+) \(generated/.exec(String((await lines.next()).value))?.[1];
      assert.ok(url && key, 'prints its URL and the generated key');
      const headers = { 'x-api-key': key };
      const started = await http('POST', `${url}/start`, { image: 'x', session_id: 'main' }, headers);
      assert.equal(started.status, 200);
      await waitFor('ready', async () => ((await http('GET', `${url}/runtime/${started.body.runtime_id}`, undefined, headers)).body.pod_status === 'ready' ? true : undefined));
      const [sandbox] = await sandboxesOf(child.pid!);
      assert.ok(sandbox !== undefined && groupAlive(sandbox));

      const exited = once(child, 'exit');
      child.kill(signal);
      assert.deepEqual(await exited, [0, null]);
      assert.equal(groupAlive(sandbox), false);
    });
  }

  test('a server process that exits without closing still kills its sandboxes', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'runtime-api-exit-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const child = spawnTs('test/local-runtime/fixtures/exit-abruptly.ts', { DATA_DIR: dataDir });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code] = await once(child, 'exit');
    assert.equal(code, 3);
    const pid = Number(out.trim());
    assert.ok(pid > 0, `printed a pid: ${out}`);
    await waitFor('the orphaned sandbox to be reaped', async () => (groupAlive(pid) ? undefined : true), 3000);
  });

  test('a frozen, isolated sandbox dies with its server killed by SIGKILL, every process of it', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'runtime-api-sigkill-'));
    const child = spawnTs('test/local-runtime/fixtures/pause-and-wait.ts', { DATA_DIR: dataDir });
    t.after(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    });
    const pid = Number((await once(child.stdout, 'data')).toString().trim());
    const members = findProcesses({ roots: [pid] });
    assert.ok(members.length >= 3, `bubblewrap, the jail's first process and the agent: ${members.join(' ')}`);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await waitFor('every process of the jail to end', async () => (members.some(isRunning) ? undefined : true), 5000);
  });

  test('without isolation, a frozen sandbox left by a server killed with SIGKILL is reaped by the next server on the data folder', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'runtime-api-sigkill-'));
    const child = spawnTs('test/local-runtime/fixtures/pause-and-wait.ts', { DATA_DIR: dataDir, RUNTIME_ISOLATION: 'off' });
    t.after(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    });
    const pid = Number((await once(child.stdout, 'data')).toString().trim());
    assert.ok(pid > 0 && groupAlive(pid), 'the paused sandbox runs');
    child.kill('SIGKILL');
    await once(child, 'exit');
    // A paused sandbox cannot notice that its server died: it stays frozen...
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(groupAlive(pid), true, 'still frozen after its server died');
    // ...until a server starts on the same data folder.
    const next = await createRuntimeApiServer({ apiKey: 'k', dataDir, isolation: { mode: 'off' }, log: () => undefined });
    t.after(() => next.close());
    await waitFor('the frozen sandbox to be killed', async () => (groupAlive(pid) ? undefined : true), 3000);
  });
});
