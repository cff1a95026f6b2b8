import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { agentReplies, startConversationStack, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';
import { sessionDir, survivorsIn } from './support.js';

describe('idle pause and retention', () => {
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack({ policy: { idleDelayMs: 1_000, retentionMs: 2_000 } });
  });
  after(async () => {
    await stack.close();
  });

  test('RUNNING → STOPPED (runtime paused) → ARCHIVED (runtime stopped); the workflow completes by itself', async () => {
    const { conversations, runtimeApi, temporal } = stack;
    const id = uniqueId('idle');
    await conversations.start({ conversationId: id, userId: 'fay', message: { text: 'echo idle' } });
    const ready = await conversations.waitUntilReady(id);
    assert.equal(ready.status, 'RUNNING');
    await waitForInfo(conversations, id, (i) => i.delivered === 1 && i.executionStatus === 'finished');
    assert.deepEqual(await agentReplies(conversations, id), ['idle\n']);

    const paused = await waitForInfo(conversations, id, (i) => i.status === 'STOPPED', 10_000);
    assert.equal(paused.runtimeStatus, 'paused');
    assert.equal(paused.runtimeId, ready.runtimeId);
    assert.equal((await runtimeApi.getSession(id))?.status, 'paused');

    // Nobody closes it: retention ends the run.
    const result = await conversations.result(id);
    assert.equal(result.info.status, 'ARCHIVED');
    assert.equal(result.info.runtimeStatus, 'stopped');
    assert.equal(result.undelivered, 0);
    assert.equal((await temporal.client.workflow.getHandle(id).describe()).status.name, 'COMPLETED');
    assert.equal((await runtimeApi.getSession(id))?.status, 'stopped');
    assert.equal(stack.server.sandboxPid(ready.runtimeId!), undefined);
    assert.deepEqual(await survivorsIn(sessionDir(stack, id)), [], 'no sandbox process survives');
  });
});

describe('the idle timer across messages (patch keep-quiet-timer)', () => {
  const IDLE_MS = 6_000;
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack({ policy: { idleDelayMs: IDLE_MS, retentionMs: 60_000 } });
  });
  after(async () => {
    await stack.close();
  });

  test('messages leave it running, none is cancelled, and the pause still comes a full idle delay after the last turn', async () => {
    const { conversations, temporal } = stack;
    const id = uniqueId('quiet');
    await conversations.start({ conversationId: id, userId: 'gil', message: { text: 'echo one', messageId: 'one' } });
    await conversations.waitUntilReady(id);
    await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'one');
    await conversations.send(id, { text: 'echo two', messageId: 'two', waitFor: 'turn' });
    await conversations.send(id, { text: 'echo three', messageId: 'three', waitFor: 'turn' });
    await waitForInfo(conversations, id, (i) => i.status === 'STOPPED', IDLE_MS * 5);

    const events = (await temporal.client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const timeOf = (event: (typeof events)[number]) => Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
    const activityName = (event: (typeof events)[number]) => event.activityTaskScheduledEventAttributes?.activityType?.name;
    assert.ok(events.some((e) => e.markerRecordedEventAttributes), 'the run records its patches');
    assert.equal(events.filter((e) => e.timerCanceledEventAttributes).length, 0, 'no timer cancelled by a message');
    assert.ok(events.filter((e) => e.timerStartedEventAttributes).length >= 1);
    // The last turn's end is recorded by the task after awaitTurn completed; the pause is scheduled at least the idle delay after it.
    const scheduledIds = new Map(events.filter((e) => activityName(e)).map((e) => [String(e.eventId), activityName(e)]));
    const lastTurnEnd = events.filter((e) => scheduledIds.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId)) === 'awaitTurn').at(-1);
    const pause = events.find((e) => activityName(e) === 'pauseRuntime');
    assert.ok(lastTurnEnd && pause, 'the history holds the last turn and the pause');
    assert.ok(timeOf(pause) - timeOf(lastTurnEnd) >= IDLE_MS, `paused ${timeOf(pause) - timeOf(lastTurnEnd)} ms after the last turn`);
    await conversations.close(id);
  });
});
