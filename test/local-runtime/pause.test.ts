// Pause really freezes a sandbox and what it runs; resume lets it go on.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DriverName } from '../../src/local-runtime/drivers/driver.js';
import { createConversation, groupAlive, sandboxCall, sendText, startRuntime, startTestServer, waitFor, waitReady, workspaceFile } from './support.js';

const sizeOf = async (path: string) => (await stat(path).catch(() => ({ size: 0 }))).size;

/** Waits until the file has grown since `size`; returns the new size. */
const grows = (path: string, size: number) => waitFor(`${path} to grow past ${size} bytes`, async () => ((await sizeOf(path)) > size ? sizeOf(path) : undefined), 5000);

for (const driver of ['process', 'inproc'] as const satisfies readonly DriverName[]) {
  describe(`pause and resume (${driver} driver)`, () => {
    test('pause freezes a running command and answers 503; resume lets it go on', async (t) => {
      const server = await startTestServer(t, { driver });
      const runtime = await startRuntime(server, 'ticker');
      await waitReady(server, runtime.runtime_id);
      const conversationId = await createConversation(runtime);
      // In the command's own folder: an isolated sandbox can write nowhere else.
      await sendText(runtime, conversationId, `while true; do echo tick >> ticks.log; sleep 0.05; done`);
      const ticks = await workspaceFile(server, 'ticks.log');
      await grows(ticks, await grows(ticks, 0));

      const paused = await server.call('POST', '/pause', { runtime_id: runtime.runtime_id });
      assert.equal(paused.status, 200);
      const info = await server.call('GET', `/runtime/${runtime.runtime_id}`);
      assert.equal(info.body.status, 'paused');
      assert.equal((await server.call('GET', '/sessions/ticker')).body.status, 'paused');
      const ingress = await sandboxCall(runtime, 'GET', `/api/conversations/${conversationId}`);
      assert.deepEqual([ingress.status, ingress.body], [503, { detail: 'runtime is paused' }]);

      await sleep(100); // a write in flight when the signal landed may still finish
      const frozenAt = await sizeOf(ticks);
      await sleep(500);
      assert.equal(await sizeOf(ticks), frozenAt, 'the command wrote nothing while paused');
      assert.equal((await server.call('POST', '/pause', { runtime_id: runtime.runtime_id })).status, 200, 'pausing twice is fine');

      assert.equal((await server.call('POST', '/resume', { runtime_id: runtime.runtime_id })).status, 200);
      await waitReady(server, runtime.runtime_id);
      assert.equal((await server.call('GET', `/runtime/${runtime.runtime_id}`)).body.status, 'running');
      await grows(ticks, frozenAt);
      const conversation = await sandboxCall(runtime, 'GET', `/api/conversations/${conversationId}`);
      assert.equal(conversation.status, 200);
      assert.equal(conversation.body.execution_status, 'running');
      assert.equal((await server.call('POST', '/resume', { runtime_id: runtime.runtime_id })).status, 200, 'resuming a running runtime is a no-op');

      const pid = server.sandboxPid(runtime.runtime_id);
      await server.call('POST', '/stop', { runtime_id: runtime.runtime_id });
      if (pid !== undefined) assert.equal(groupAlive(pid), false);
      const stoppedAt = await sizeOf(ticks);
      await sleep(200);
      assert.equal(await sizeOf(ticks), stoppedAt, 'the command ended with the runtime');
    });

    test('a paused runtime can be stopped, and then neither paused nor resumed', async (t) => {
      const server = await startTestServer(t, { driver });
      const runtime = await startRuntime(server, 'pause-then-stop');
      await waitReady(server, runtime.runtime_id);
      const pid = server.sandboxPid(runtime.runtime_id);
      await server.call('POST', '/pause', { runtime_id: runtime.runtime_id });
      const started = Date.now();
      assert.equal((await server.call('POST', '/stop', { runtime_id: runtime.runtime_id })).status, 200);
      assert.ok(Date.now() - started < 1500, 'a frozen sandbox still ends on SIGTERM, without waiting for SIGKILL');
      if (pid !== undefined) assert.equal(groupAlive(pid), false);
      const pause = await server.call('POST', '/pause', { runtime_id: runtime.runtime_id });
      assert.equal(pause.status, 409);
      assert.match(pause.body.detail, /stopped/);
      assert.equal((await server.call('POST', '/resume', { runtime_id: runtime.runtime_id })).status, 409);
    });

    test('a runtime paused while starting becomes ready after resume', async (t) => {
      const server = await startTestServer(t, { driver, faults: { startDelayMs: 300 } });
      const runtime = await startRuntime(server, 'early-pause');
      await server.call('POST', '/pause', { runtime_id: runtime.runtime_id });
      await sleep(500);
      assert.equal((await server.call('GET', `/runtime/${runtime.runtime_id}`)).body.status, 'paused');
      await server.call('POST', '/resume', { runtime_id: runtime.runtime_id });
      await waitReady(server, runtime.runtime_id);
      assert.equal((await sandboxCall(runtime, 'GET', '/alive')).status, 200);
    });
  });
}
