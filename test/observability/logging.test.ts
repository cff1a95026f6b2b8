// LOG_FORMAT=json: the worker's lines are JSON objects, LOG_LEVEL filters them, and every
// line a conversation's workflow or activities write names the conversation, the run and
// (once there is one) the runtime. This file's process installs the SDK runtime with the
// JSON logger before any worker starts (the runtime is process-wide).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/observability/logging.js';
import { installTemporalRuntime } from '../../src/temporal/runtime.js';
import { startConversationStack, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';

const lines: string[] = [];
before(() => {
  installTemporalRuntime('debug', { logger: createLogger({ level: 'debug', format: 'json', component: 'worker', write: (line) => lines.push(line) }) });
});

describe('the JSON logger', () => {
  test('writes one JSON object a line and applies the level (the SDK stays a step quieter at info)', () => {
    const written: string[] = [];
    const logger = createLogger({ level: 'info', format: 'json', component: 'worker', write: (line) => written.push(line) });
    logger.debug('hidden', { sdkComponent: 'activity' });
    logger.info('shown', { sdkComponent: 'activity', conversationId: 'c1', error: new Error('boom\nsecond line') });
    logger.info('the SDK lists its bundled modules', { sdkComponent: 'worker' });
    logger.warn('the SDK warns', { sdkComponent: 'worker' });
    assert.equal(written.length, 2);
    assert.ok(written.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n')), 'one line each');
    const first = JSON.parse(written[0] as string) as Record<string, unknown>;
    assert.equal(first.level, 'info');
    assert.equal(first.component, 'worker');
    assert.equal(first.message, 'shown');
    assert.equal(first.conversationId, 'c1');
    assert.equal(first.error, 'Error: boom\nsecond line');
  });
});

describe('the worker logs a conversation with its IDs (real Temporal, real sandbox)', () => {
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack();
  });
  after(async () => {
    await stack.close();
  });

  test('every workflow and activity line of the conversation carries conversationId and runId; runtime lines carry runtimeId', async () => {
    const { conversations, temporal } = stack;
    const id = uniqueId('logged');
    await conversations.start({ conversationId: id, userId: 'alice', message: { text: 'echo logged' } });
    const ready = await conversations.waitUntilReady(id);
    await waitForInfo(conversations, id, (info) => info.delivered === 1 && info.lastTurn !== undefined);
    await conversations.close(id, 'done');
    await conversations.result(id);
    const runId = (await temporal.client.workflow.getHandle(id).describe()).runId;

    const ours = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.workflowId === id);
    assert.ok(ours.some((entry) => entry.message === 'Workflow started'), 'the workflow logged');
    assert.ok(ours.some((entry) => entry.activityType === 'provisionRuntime'), 'its activities logged');
    assert.ok(ours.every((entry) => entry.taskToken === undefined), 'no activity task token (it can complete the activity)');
    for (const entry of ours) {
      assert.equal(entry.conversationId, id, JSON.stringify(entry));
      assert.equal(entry.runId, runId, JSON.stringify(entry));
    }
    // Known once the activity's input is read: its 'Activity started' line comes before that.
    const delivery = ours.filter((entry) => entry.activityType === 'deliverMessage' && entry.message === 'Activity completed');
    assert.ok(delivery.length > 0, 'the delivery activity logged');
    for (const entry of delivery) assert.equal(entry.runtimeId, ready.runtimeId, JSON.stringify(entry));
  });
});
