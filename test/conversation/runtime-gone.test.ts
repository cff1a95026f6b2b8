// "Runtime gone" is a state, never an error; transient Runtime API failures are retried
// within the conversation's budgets. Against real parts: the runtime stopped behind the
// workflow's back while idle (pause answers 409), the whole Runtime API restarted (every
// runtime unknown: 404), and 30% injected 5xx while 20 conversations start.
// Figures checked: conversations in ERROR 0, messages lost 0.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { buildActivities } from '../../src/activities/wiring.js';
import { ConversationClient } from '../../src/client.js';
import { createRuntimeApiServer } from '../../src/local-runtime/server.js';
import type { RuntimeApiServer } from '../../src/local-runtime/server.js';
import { agentReplies, startConversationStack, waitForInfo } from '../support/conversations.js';
import { startTestWorker, uniqueId } from '../support/temporal.js';

describe('a runtime gone while the conversation is idle', () => {
  test('stopped behind our back: the idle timer pauses nothing, records it (STOPPED, runtime none), and the next message gets a new runtime', async (t) => {
    const stack = await startConversationStack({ policy: { idleDelayMs: 2_000, retentionMs: 600_000 } });
    t.after(() => stack.close());
    const { conversations, runtimeApi } = stack;
    const id = uniqueId('gone-idle');
    await conversations.start({ conversationId: id, userId: 'dan', message: { text: 'echo before', messageId: 'm1' } });
    const first = await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0);
    await runtimeApi.stop(first.runtimeId!);

    const idle = await waitForInfo(conversations, id, (i) => i.status !== 'RUNNING', 30_000);
    assert.equal(idle.status, 'STOPPED', JSON.stringify(idle));
    assert.equal(idle.runtimeStatus, 'none');
    assert.match(idle.notice ?? '', /was gone when it was to be paused/);

    await conversations.send(id, { text: 'echo after', messageId: 'm2' });
    const after = await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm2' && i.queued === 0, 60_000);
    assert.equal(after.status, 'RUNNING');
    assert.notEqual(after.runtimeId, first.runtimeId);
    assert.equal(after.runtimesReplaced, 1);
    assert.deepEqual(await agentReplies(conversations, id), ['after\n']);
    await conversations.close(id);
    assert.equal((await conversations.result(id)).info.status, 'ARCHIVED');
  });
});

describe('the Runtime API restarted under running conversations (as when `npm start` is stopped and started again)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test('every conversation ends its idle period STOPPED, not ERROR, and resumes on a new runtime when a message comes', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'dc-restart-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const apiKey = randomBytes(16).toString('hex');
    const serverOptions = { apiKey, dataDir, stopGraceMs: 1_000, log: () => {} };
    let server: RuntimeApiServer = await createRuntimeApiServer(serverOptions);
    cleanups.push(() => server.close());
    const wired = buildActivities({ runtimeApiUrl: server.url, runtimeApiKey: apiKey, policy: { idleDelayMs: 4_000, retentionMs: 600_000 } });
    cleanups.push(() => wired.close());
    const temporal = await startTestWorker(wired.activities);
    cleanups.push(() => temporal.close());
    const conversations = new ConversationClient({
      client: temporal.client,
      taskQueue: temporal.taskQueue,
      runtimeApi: wired.runtimeApi,
    });

    const ids = [1, 2, 3].map((n) => uniqueId(`restart-${n}`));
    for (const id of ids) await conversations.start({ conversationId: id, userId: 'eli', message: { text: `echo ${id}`, messageId: 'm1' } });
    for (const id of ids) await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0, 60_000);

    // The whole local Runtime API goes away (its sandboxes with it) and comes back empty on the same port.
    await server.close();
    server = await createRuntimeApiServer({ ...serverOptions, port: server.port });

    for (const id of ids) {
      const idle = await waitForInfo(conversations, id, (i) => i.status !== 'RUNNING', 60_000);
      assert.equal(idle.status, 'STOPPED', `${id}: ${JSON.stringify(idle)}`);
      assert.equal(idle.runtimeStatus, 'none');
    }
    for (const id of ids) await conversations.send(id, { text: 'echo back', messageId: 'm2' });
    for (const id of ids) {
      const back = await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm2' && i.queued === 0, 60_000);
      assert.equal(back.status, 'RUNNING');
      assert.deepEqual(await agentReplies(conversations, id), ['back\n']);
      await conversations.close(id);
      assert.equal((await conversations.result(id)).info.status, 'ARCHIVED');
    }
  });
});

describe('transient Runtime API failures while provisioning', () => {
  test('30% of status reads, session lookups and starts answer 503: all 20 conversations start and answer, none ends in ERROR', async (t) => {
    const stack = await startConversationStack({
      server: {
        driver: 'inproc',
        faults: { errorRate: { endpoints: ['GET /runtime', 'GET /sessions', 'POST /start'], rate: 0.3, status: 503 } },
      },
    });
    t.after(() => stack.close());
    const { conversations } = stack;
    const ids = Array.from({ length: 20 }, (_, n) => uniqueId(`flaky-${n}`));
    await Promise.all(ids.map((id) => conversations.start({ conversationId: id, userId: 'fin', message: { text: 'echo up', messageId: 'm1' } })));
    const infos = await Promise.all(ids.map((id) => waitForInfo(conversations, id, (i) => (i.lastTurn?.messageId === 'm1' && i.queued === 0) || i.status === 'ERROR', 120_000)));
    const errors = infos.filter((i) => i.status === 'ERROR');
    assert.deepEqual(errors, [], 'conversations in ERROR: 0');
    // The test's own reads pass through the same faulty API, so they retry too.
    const replies = async (id: string): Promise<string[]> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await agentReplies(conversations, id);
        } catch (error) {
          if (attempt >= 20) throw error;
        }
      }
    };
    for (const id of ids) assert.deepEqual(await replies(id), ['up\n']);
    await Promise.all(ids.map((id) => conversations.close(id)));
  });
});
