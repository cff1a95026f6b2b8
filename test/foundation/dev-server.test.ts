import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { DevServerStartError, freePort, startDevServer } from '../../src/temporal/dev-server.js';
import { projectRoot, toolsDir } from '../../src/temporal/server.js';
import { TEMPORAL_CLI, projectInstallPath } from '../../src/temporal/tool-resolver.js';
import { conversationStatusKey, projectSearchAttributes } from '../../src/workflows/search-attributes.js';
import { testDataConverter } from '../support/codec.js';

const executable = projectInstallPath(TEMPORAL_CLI, toolsDir(projectRoot));

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('embedded Temporal dev server', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'dc-devserver-'));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  test('keeps workflows in its SQLite file across a restart, registers search attributes, leaves no process', async () => {
    const port = await freePort();
    const uiPort = await freePort();
    const dbFile = path.join(scratch, 'temporal.sqlite');
    const options = { executable, port, uiPort, dbFile, searchAttributes: projectSearchAttributes };

    const first = await startDevServer(options);
    const ui = await fetch(`${first.uiUrl}/`);
    assert.equal(ui.status, 200);
    let connection = await Connection.connect({ address: first.address });
    const client = new Client({ connection, dataConverter: await testDataConverter() });
    const attributes = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    assert.ok(attributes.customAttributes && conversationStatusKey.name in attributes.customAttributes);
    // No worker polls this queue; the open workflow is what must survive the restart.
    await client.workflow.start('healthCheckWorkflow', { taskQueue: 'nobody-polls', workflowId: 'survives-restart', args: ['x'] });
    await connection.close();
    const firstPid = first.pid as number;
    await first.stop();
    assert.equal(processAlive(firstPid), false, 'the server process is gone after stop');

    const second = await startDevServer(options);
    try {
      connection = await Connection.connect({ address: second.address });
      const description = await new Client({ connection, dataConverter: await testDataConverter() }).workflow.getHandle('survives-restart').describe();
      assert.equal(description.status.name, 'RUNNING');
      await connection.close();
    } finally {
      await second.stop();
    }
  });

  test('a taken port is a clear error that names the variable to change', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      await assert.rejects(startDevServer({ executable, port }), (error: unknown) => {
        assert.ok(error instanceof DevServerStartError);
        assert.match(error.message, new RegExp(`port ${port} \\(Temporal gRPC\\) is already in use.*TEMPORAL_PORT`));
        return true;
      });
    } finally {
      blocker.close();
    }
  });
});
