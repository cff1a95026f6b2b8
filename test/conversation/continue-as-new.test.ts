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
    stack = await startConversationStack({ address: server.address, policy: { idleDelayMs: 60_000 } });
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
});
