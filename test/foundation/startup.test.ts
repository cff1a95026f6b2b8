// What `npm start` says while it starts and when it cannot: progress lines, every taken
// port in one message before anything starts, one instance per data folder (the second
// names the first's PID), and a start timeout that shows the server's output and the
// variable that gives it longer. Each program runs as its own process, as a user starts it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DataDirLockedError, lockDataDir, lockFileOf } from '../../src/startup/data-lock.js';
import { DevServerStartError, freePort, startDevServer } from '../../src/temporal/dev-server.js';
import { projectRoot, toolsDir } from '../../src/temporal/server.js';
import { TEMPORAL_CLI, projectInstallPath } from '../../src/temporal/tool-resolver.js';
import { npmStartEnv, startMainProcess } from '../support/main-process.js';

async function runMain(env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += String(chunk)));
  child.stderr.on('data', (chunk: Buffer) => (output += String(chunk)));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, output };
}

async function listenOn(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

describe('npm start: start-up', () => {
  test('taken ports are all named, with their variables, before anything starts', async (t) => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'dc-startup-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const env = await npmStartEnv(dataDir);
    const taken = [await listenOn(Number(env.TEMPORAL_PORT)), await listenOn(Number(env.RUNTIME_API_PORT)), await listenOn(Number(env.METRICS_ADDRESS))];
    t.after(() => taken.forEach((server) => server.close()));
    const run = await runMain(env);
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /3 ports `npm start` needs are already in use/);
    assert.match(run.output, new RegExp(`127\\.0\\.0\\.1:${env.TEMPORAL_PORT} \\(Temporal gRPC\\): set TEMPORAL_PORT`));
    assert.match(run.output, new RegExp(`127\\.0\\.0\\.1:${env.RUNTIME_API_PORT} \\(local Runtime API\\): set RUNTIME_API_PORT`));
    assert.match(run.output, new RegExp(`127\\.0\\.0\\.1:${env.METRICS_ADDRESS} \\(Prometheus metrics\\): set METRICS_ADDRESS`));
    assert.doesNotMatch(run.output, /starting the Temporal dev server/, 'nothing was started');
  });

  test('progress lines while starting; a second npm start on the same data folder is refused, naming the first one\'s PID', async () => {
    const first = await startMainProcess();
    try {
      for (const line of [/finding the Temporal CLI/, /starting the Temporal dev server on 127\.0\.0\.1:\d+ .*TEMPORAL_START_TIMEOUT/, /Temporal answered after [\d.]+ s/, /starting the local Runtime API/, /starting the worker/]) {
        assert.match(first.output(), line);
      }
      // Every port moved, as in the report this guards against: only the data folder is shared.
      const second = await runMain({ ...(await npmStartEnv(first.dataDir)) });
      assert.equal(second.code, 1, second.output);
      assert.match(second.output, /the data folder .* is in use by another `npm start` \(PID \d+\)/);
      assert.match(second.output, /give this one its own folder with DATA_DIR/);
    } finally {
      await first.stop();
    }
  });

  test('the lock: a live owner refuses, a dead one is taken over, release removes only our own', async (t) => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'dc-lock-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    // A PID that is alive and not ours: our parent (the test runner).
    await writeFile(lockFileOf(dataDir), `${process.ppid}\n`);
    await assert.rejects(lockDataDir(dataDir), (error: unknown) => error instanceof DataDirLockedError && error.pid === process.ppid);
    // A PID that has exited: a child we waited for.
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    await writeFile(lockFileOf(dataDir), `${child.pid}\n`);
    const lock = await lockDataDir(dataDir);
    await lock.release();
    const again = await lockDataDir(dataDir);
    await again.release();
  });

  test('a start timeout names TEMPORAL_START_TIMEOUT and shows the server\'s last output', async () => {
    const executable = projectInstallPath(TEMPORAL_CLI, toolsDir(projectRoot));
    // A server that started after all is stopped, so a failure here cannot leave it running and hang the file.
    const started = startDevServer({ executable, port: await freePort(), startTimeoutMs: 1 }).then((server) => server.stop());
    await assert.rejects(started, (error: unknown) => {
      assert.ok(error instanceof DevServerStartError, String(error));
      assert.match(error.message, /did not answer within 0\.001 s; .*TEMPORAL_START_TIMEOUT=180s\)\. Its last output:\n/);
      return true;
    });
  });
});
