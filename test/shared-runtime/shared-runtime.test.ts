// Conversations on a named shared runtime, against real parts (a local Runtime API with
// process sandboxes, the shell agent): many agent conversations on one runtime, each in
// its own folder; each DELETEs its agent conversation when it closes; the runtime stops
// once the last has gone and the idle delay has passed; a runtime that disappears is
// replaced once for all of its conversations; a pool spreads conversations by load.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidInputError } from '../../src/client.js';
import { sharedSessionId } from '../../src/workflows/shared-runtime/messages.js';
import { agentReplies, startConversationStack, waitForInfo } from '../support/conversations.js';
import { agentConversationsOn, sharedRuntimeStatus } from '../support/shared-runtimes.js';
import { uniqueId } from '../support/temporal.js';

const done = (messageId: string) => (i: { lastTurn?: { messageId: string }; queued: number }) => i.lastTurn?.messageId === messageId && i.queued === 0;

describe('a shared runtime', () => {
  test('three conversations share one runtime, each in its own folder; closing deletes each agent conversation; the runtime stops after the idle delay', async (t) => {
    const stack = await startConversationStack({ sharedRuntime: { idleDelayMs: 2_000 } });
    t.after(() => stack.close());
    const { conversations, runtimeApi, temporal } = stack;
    const pool = uniqueId('pool');
    const ids = [0, 1, 2].map((i) => uniqueId(`on-shared-${i}`));
    await Promise.all(ids.map((conversationId) => conversations.start({ conversationId, userId: 'sam', runtime: { shared: pool }, message: { text: 'pwd', messageId: 'm1' } })));
    const infos = await Promise.all(ids.map((id) => waitForInfo(conversations, id, done('m1'), 60_000)));
    assert.equal(new Set(infos.map((i) => i.runtimeId)).size, 1, 'one runtime for all');
    assert.ok(infos.every((i) => i.sharedRuntime === pool));
    const session = await runtimeApi.getSession(sharedSessionId(pool));
    assert.equal(session?.runtime_id, infos[0]?.runtimeId);
    const folders = await Promise.all(ids.map(async (id) => (await agentReplies(conversations, id))[0]));
    assert.equal(new Set(folders).size, 3, `each its own folder: ${folders.join(', ')}`);
    assert.equal(await agentConversationsOn(runtimeApi, pool), 3);
    assert.equal((await sharedRuntimeStatus(temporal.client, temporal.taskQueue, pool)).users, 3);

    await conversations.close(ids[0] as string);
    assert.equal((await conversations.result(ids[0] as string)).info.status, 'ARCHIVED');
    assert.equal(await agentConversationsOn(runtimeApi, pool), 2, 'its agent conversation deleted, the runtime still serving the others');
    await Promise.all(ids.slice(1).map((id) => conversations.close(id)));
    await Promise.all(ids.slice(1).map((id) => conversations.result(id)));
    assert.equal(await agentConversationsOn(runtimeApi, pool), 0);
    // Stopped once the idle delay (2 s) has passed with nobody on it; the owner then ends.
    const owner = temporal.client.workflow.getHandle(`shared-runtime-${pool}-on-${temporal.taskQueue}`);
    const final = await owner.result();
    assert.equal(final.runtimeState, 'stopped');
    assert.equal((await runtimeApi.getSession(sharedSessionId(pool)))?.status, 'stopped');
  });

  test('a runtime that disappears is replaced once for all of its conversations', async (t) => {
    const stack = await startConversationStack({ sharedRuntime: { idleDelayMs: 60_000 } });
    t.after(() => stack.close());
    const { conversations, runtimeApi, temporal } = stack;
    const pool = uniqueId('pool');
    const ids = [0, 1, 2].map((i) => uniqueId(`lost-${i}`));
    await Promise.all(ids.map((conversationId) => conversations.start({ conversationId, userId: 'sam', runtime: { shared: pool }, message: { text: 'echo one', messageId: 'm1' } })));
    const before = await Promise.all(ids.map((id) => waitForInfo(conversations, id, done('m1'), 60_000)));
    await runtimeApi.stop(before[0]?.runtimeId as string);
    await Promise.all(ids.map((id) => conversations.send(id, { text: 'echo two', messageId: 'm2' })));
    const after = await Promise.all(ids.map((id) => waitForInfo(conversations, id, done('m2'), 90_000)));
    assert.equal(new Set(after.map((i) => i.runtimeId)).size, 1, 'all on the one replacement');
    assert.notEqual(after[0]?.runtimeId, before[0]?.runtimeId);
    assert.ok(after.every((i) => i.status === 'RUNNING' && i.lastTurn?.executionStatus === 'finished'), JSON.stringify(after));
    assert.equal((await sharedRuntimeStatus(temporal.client, temporal.taskQueue, pool)).replaced, 1);
    for (const id of ids) assert.deepEqual((await agentReplies(conversations, id)).at(-1), 'two\n');
    await Promise.all(ids.map((id) => conversations.close(id)));
    await Promise.all(ids.map((id) => conversations.result(id)));
    assert.equal(await agentConversationsOn(runtimeApi, pool), 0);
  });

  test('a pool of two spreads four conversations two and two', async (t) => {
    const stack = await startConversationStack({ sharedRuntime: { idleDelayMs: 60_000 } });
    t.after(() => stack.close());
    const { conversations, runtimeApi } = stack;
    const pool = uniqueId('pool');
    const ids = [0, 1, 2, 3].map((i) => uniqueId(`spread-${i}`));
    // One after another, so each pick sees the load of the ones before.
    for (const conversationId of ids) {
      await conversations.start({ conversationId, userId: 'sam', runtime: { shared: pool, runtimes: 2 }, message: { text: 'true', messageId: 'm1' } });
      await waitForInfo(conversations, conversationId, done('m1'), 60_000);
    }
    const members = await Promise.all(ids.map(async (id) => (await conversations.info(id)).sharedRuntime));
    assert.deepEqual(members.toSorted(), [`${pool}-0`, `${pool}-0`, `${pool}-1`, `${pool}-1`]);
    assert.equal(await agentConversationsOn(runtimeApi, `${pool}-0`), 2);
    await Promise.all(ids.map((id) => conversations.close(id)));
    await Promise.all(ids.map((id) => conversations.result(id)));
  });

  test('a conversation terminated without detaching is found and dropped, so the runtime still stops', async (t) => {
    const stack = await startConversationStack({ sharedRuntime: { idleDelayMs: 1_000, recheckUsersMs: 2_000 } });
    t.after(() => stack.close());
    const { conversations, runtimeApi, temporal } = stack;
    const pool = uniqueId('pool');
    const id = uniqueId('terminated');
    await conversations.start({ conversationId: id, userId: 'sam', runtime: { shared: pool }, message: { text: 'true', messageId: 'm1' } });
    await waitForInfo(conversations, id, done('m1'), 60_000);
    await temporal.client.workflow.getHandle(id).terminate('operator');
    const final = await temporal.client.workflow.getHandle(`shared-runtime-${pool}-on-${temporal.taskQueue}`).result();
    assert.deepEqual({ state: final.runtimeState, users: final.users, detached: final.detached }, { state: 'stopped', users: 0, detached: 1 });
    assert.equal((await runtimeApi.getSession(sharedSessionId(pool)))?.status, 'stopped');
  });

  test('a bad binding is refused at the edge with the field named', async (t) => {
    const stack = await startConversationStack({ noWorker: true });
    t.after(() => stack.close());
    await assert.rejects(stack.conversations.start({ conversationId: uniqueId('bad'), userId: 'sam', runtime: { shared: 'no spaces' } }), InvalidInputError);
    await assert.rejects(stack.conversations.start({ conversationId: uniqueId('bad'), userId: 'sam', runtime: { shared: 'p', runtimes: 0 } }), /runtimes/);
  });
});
