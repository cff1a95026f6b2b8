import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { buildActivities } from '../../src/activities/wiring.js';
import { ConversationClient } from '../../src/client.js';
import { createRuntimeApiServer } from '../../src/local-runtime/server.js';
import type { RuntimeApiServer } from '../../src/local-runtime/server.js';
import { startTestWorker, uniqueId } from '../support/temporal.js';
import type { TestTemporal } from '../support/temporal.js';
import { startDelayingProxy } from './support.js';
import type { DelayingProxy } from './support.js';

// The worker reaches the Runtime API through a proxy that holds POST /start for a while,
// as a hosted Runtime API creating a pod would, so a cancel can land while it is in flight.
describe('cancelling a conversation while its POST /start is in flight', () => {
  let dataDir: string;
  let server: RuntimeApiServer;
  let proxy: DelayingProxy;
  let wired: ReturnType<typeof buildActivities>;
  let temporal: TestTemporal;
  let conversations: ConversationClient;
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'dc-cancel-'));
    const apiKey = randomBytes(16).toString('hex');
    server = await createRuntimeApiServer({ apiKey, dataDir, stopGraceMs: 1_000, log: () => {} });
    proxy = await startDelayingProxy(server.url, { 'POST /start': 1_500 });
    wired = buildActivities({ runtimeApiUrl: proxy.url, runtimeApiKey: apiKey });
    temporal = await startTestWorker(wired.activities);
    conversations = new ConversationClient({ client: temporal.client, taskQueue: temporal.taskQueue });
  });
  after(async () => {
    await temporal?.close();
    await wired?.close();
    await proxy?.close();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('the runtime the start creates is stopped by the compensation, not leaked', async () => {
    const id = uniqueId('cancel-start');
    await conversations.start({ conversationId: id, userId: 'ivy' });
    await proxy.arrived('POST /start');
    const handle = temporal.client.workflow.getHandle(id);
    await handle.cancel();
    await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure);

    assert.equal((await conversations.info(id)).status, 'ARCHIVED');
    // Right when the run has ended: the start has completed and its runtime is already stopped.
    const runtimes = (await wired.runtimeApi.list()).runtimes.filter((r) => r.session_id === id);
    assert.deepEqual(
      runtimes.map((r) => r.status),
      ['stopped'],
    );
    // And nothing turns up later either, once the held start would have been answered.
    await sleep(1_000);
    assert.deepEqual((await wired.runtimeApi.list()).runtimes.filter((r) => r.session_id === id && r.status !== 'stopped'), []);
  });
});
