import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort, startDevServer } from '../../src/temporal/dev-server.js';
import type { RunningDevServer } from '../../src/temporal/dev-server.js';
import { projectRoot, toolsDir } from '../../src/temporal/server.js';
import { TEMPORAL_CLI, projectInstallPath } from '../../src/temporal/tool-resolver.js';
import { projectSearchAttributes } from '../../src/workflows/search-attributes.js';
import { agentReplies, startConversationStack, userMessages, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';
import { admissionWorkflowId } from '../../src/workflows/admission/messages.js';

describe('continue-as-new under a low history threshold', () => {
  let server: RunningDevServer;
  let stack: ConversationStack;
  before(async () => {
    // A private server that suggests continue-as-new after 40 events instead of 4,096.
    server = await startDevServer({
      executable: projectInstallPath(TEMPORAL_CLI, toolsDir(projectRoot)),
      port: await freePort(),
      searchAttributes: projectSearchAttributes,
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40 },
    });
    stack = await startConversationStack({ address: server.address, policy: { idleDelayMs: 60_000 }, admission: { defaults: { limit: 1, policy: 'queue' } } });
  });
  after(async () => {
    await stack?.close();
    await server?.stop();
  });

  test('carries the queue, counters and dedupe window across runs while messages are in flight', async () => {
    const { conversations, temporal } = stack;
    const id = uniqueId('can');
    await conversations.start({ conversationId: id, userId: 'dave', message: { text: 'echo 1', messageId: 'm-1' } });
    const firstRunId = (await temporal.client.workflow.getHandle(id).describe()).runId;

    // Send in bursts, so some arrive while a run is handing over to the next.
    const total = 24;
    for (let n = 2; n <= total; n += 4) {
      await Promise.all(
        [0, 1, 2, 3]
          .map((k) => n + k)
          .filter((k) => k <= total)
          .map((k) => conversations.send(id, { text: `echo ${k}`, messageId: `m-${k}` })),
      );
    }
    const info = await waitForInfo(conversations, id, (i) => i.delivered === total && i.queued === 0 && i.executionStatus === 'finished', 120_000);
    assert.equal(info.received, total);
    assert.equal(info.status, 'RUNNING');

    const description = await temporal.client.workflow.getHandle(id).describe();
    assert.notEqual(description.runId, firstRunId, 'the workflow continued as new');
    const firstRun = await temporal.client.workflow.getHandle(id, firstRunId).describe();
    assert.equal(firstRun.status.name, 'CONTINUED_AS_NEW');

    // Same message ID again, after several runs: still recognised as a duplicate.
    const again = await conversations.send(id, { text: 'echo 1', messageId: 'm-1' });
    assert.equal(again?.duplicate, true);

    const replies = await agentReplies(conversations, id);
    assert.deepEqual(
      replies.map((text) => Number(text.trim())).sort((a, b) => a - b),
      Array.from({ length: total }, (_, k) => k + 1),
    );
    assert.equal(replies.length, total, 'each message ran exactly once');
    assert.equal((await userMessages(conversations, id)).length, total, 'each message was delivered exactly once');
    await conversations.close(id);
    await conversations.result(id);
  });

  test('a user\'s admission workflow continues as new, carrying its holder, its queue and its counts', async () => {
    const { conversations, temporal } = stack;
    const userId = uniqueId('many');
    const runIds = new Set<string>();
    const admission = () => temporal.client.workflow.getHandle(admissionWorkflowId(temporal.taskQueue, userId));
    // One conversation after another, each taking and giving back the only slot: more than
    // 40 events of the admission workflow's history, so it continues as new several times.
    const rounds = 8;
    for (let k = 0; k < rounds; k++) {
      const id = uniqueId(`many-${k}`);
      await conversations.start({ conversationId: id, userId, message: { text: `echo ${k}`, messageId: 'm1' } });
      await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0);
      runIds.add((await admission().describe()).runId);
      await conversations.close(id);
      await conversations.result(id);
    }
    // A holder and a waiter, then more history while the waiter waits.
    const holder = uniqueId('many-holder');
    const waiter = uniqueId('many-waiter');
    await conversations.start({ conversationId: holder, userId, message: { text: 'echo holder', messageId: 'm1' } });
    const queued = await conversations.start({ conversationId: waiter, userId, message: { text: 'echo waiter', messageId: 'm1' } });
    assert.equal(queued.admission?.state, 'waiting');
    // Senders that wait for their turn while the threshold is passed (they once blocked the handover for good).
    for (let k = 2; k <= 12; k++) {
      const sent = await conversations.send(holder, { text: `echo holder-${k}`, messageId: `m${k}`, waitFor: 'turn' });
      assert.equal(sent?.outcome?.result, 'answered');
    }
    runIds.add((await admission().describe()).runId);
    assert.ok(runIds.size >= 3, `the admission workflow continued as new (${runIds.size} runs seen)`);

    const status = await conversations.userAdmission(userId);
    assert.deepEqual(status?.held.map((h) => h.conversationId), [holder], 'the holder kept its slot across runs');
    assert.deepEqual(status?.queue.map((w) => w.conversationId), [waiter], 'the waiter kept its place');
    assert.equal(status?.granted, rounds + 1);
    await conversations.close(holder);
    await waitForInfo(conversations, waiter, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0, 60_000);
    await conversations.close(waiter);
    await conversations.result(waiter);
    const end = await conversations.userAdmission(userId);
    assert.deepEqual({ held: end?.held, queue: end?.queue, granted: end?.granted }, { held: [], queue: [], granted: rounds + 2 });
  });
});
