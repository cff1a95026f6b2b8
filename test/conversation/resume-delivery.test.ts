// A message to a paused conversation is delivered by the resume's provisioning activity
// (patch deliver-with-provisioning): one activity and one workflow task fewer. The faults
// of delivery-faults.test.ts, played on that path: the answer to the POST cut, the worker
// SIGKILLed while the answer is held, the message refused. Figures checked: user messages
// per message sent = 1 (lost 0, doubled 0), conversations in ERROR 0.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AGENT_VARIANTS, stackWorkers, startAgentStack } from '../support/agents.js';
import type { AgentStack } from '../support/agents.js';
import { agentReplies, userMessages, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { postsMessage, searchesEvents } from '../support/fault-proxy.js';
import type { FaultRule } from '../support/fault-proxy.js';
import { uniqueId } from '../support/temporal.js';

const shell = AGENT_VARIANTS[0]!;
const TURN_WAIT_MS = 120_000;

const setUp = async (rules: readonly FaultRule[], options: { noWorker?: boolean } = {}) => startAgentStack(await shell.make(), { rules, noWorker: options.noWorker });

/** Starts a conversation, delivers `echo first` and pauses it; resolves once it is STOPPED. */
async function pausedConversation(stack: ConversationStack, prefix: string): Promise<string> {
  const { conversations } = stack;
  const id = uniqueId(prefix);
  await conversations.start({ conversationId: id, userId: uniqueId(`${prefix}-user`) });
  await conversations.waitUntilReady(id);
  await conversations.send(id, { text: 'echo first', messageId: 'first', waitFor: 'turn' });
  await conversations.pause(id);
  await waitForInfo(conversations, id, (info) => info.status === 'STOPPED');
  return id;
}

/** The activity types scheduled after event `afterEventId`, in order. */
async function activitiesSince(stack: ConversationStack, id: string, fromEventId: number): Promise<string[]> {
  const { events } = await stack.temporal.client.workflow.getHandle(id).fetchHistory();
  return (events ?? [])
    .filter((event) => Number(event.eventId) > fromEventId && event.activityTaskScheduledEventAttributes)
    .map((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
}

async function lastEventId(stack: ConversationStack, id: string): Promise<number> {
  const { events } = await stack.temporal.client.workflow.getHandle(id).fetchHistory();
  return Number(events?.at(-1)?.eventId ?? 0);
}

describe('a message to a paused conversation (shell agent)', () => {
  let setup: AgentStack;
  before(async () => {
    setup = await setUp([]);
  });
  after(() => setup?.close());

  test('is delivered by the resume itself: provisionRuntime, no deliverMessage, once', async () => {
    const { conversations } = setup.stack;
    const id = await pausedConversation(setup.stack, 'resume-deliver');
    const mark = await lastEventId(setup.stack, id);
    const sent = await conversations.send(id, { text: 'echo second', messageId: 'second', waitFor: 'turn' });
    assert.deepEqual(sent?.outcome, { messageId: 'second', result: 'answered', executionStatus: 'finished' });
    const scheduled = await activitiesSince(setup.stack, id, mark);
    assert.equal(scheduled[0], 'provisionRuntime');
    assert.ok(!scheduled.includes('deliverMessage'), `no deliverMessage after the resume: ${scheduled.join(' → ')}`);
    assert.deepEqual(await userMessages(conversations, id), ['echo first', 'echo second']);
    const info = await conversations.info(id);
    assert.equal(info.delivered, 2);
    assert.equal(info.status, 'RUNNING');
    await conversations.close(id);
  });
});

describe('the answer to the resume delivery POST is cut (shell agent)', () => {
  let setup: AgentStack;
  before(async () => {
    // The first POST of a message is `echo first`'s; the second is the one made during the resume.
    setup = await setUp([{ matches: postsMessage, action: 'cut', times: 2 }]);
  });
  after(() => setup?.close());

  test('deliverMessage takes over from the workflow count: the agent holds it once and answers once', async () => {
    const { conversations } = setup.stack;
    const id = await pausedConversation(setup.stack, 'resume-cut');
    await conversations.send(id, { text: 'echo second', messageId: 'second', waitFor: 'turn' });
    assert.equal(setup.proxy.applied[0], 2, 'both cuts were played');
    assert.deepEqual(await userMessages(conversations, id), ['echo first', 'echo second']);
    const replies = await agentReplies(conversations, id);
    assert.equal(replies.length, 2, JSON.stringify(replies));
    const info = await conversations.info(id);
    assert.equal(info.delivered, 2);
    assert.equal(info.status, 'RUNNING');
    await conversations.close(id);
  });
});

describe('the worker dies while the answer to the resume delivery POST is held (shell agent)', () => {
  let setup: AgentStack;
  const workers = stackWorkers(() => setup);
  before(async () => {
    // Rule 0 lets `echo first` through (times 1, no hold to speak of); rule 1 holds the resume's POST.
    setup = await setUp(
      [
        { matches: postsMessage, action: 'hold', holdMs: 0, times: 1 },
        { matches: postsMessage, action: 'hold', holdMs: 300_000, times: 1 },
      ],
      { noWorker: true },
    );
  });
  after(async () => {
    await workers.killAll();
    await setup?.close();
  });

  test('SIGKILL mid-delivery: the retry finds the message there, posts nothing, and the turn completes', async () => {
    const { conversations } = setup.stack;
    const first = await workers.spawn();
    const id = await pausedConversation(setup.stack, 'resume-kill');
    await conversations.send(id, { text: 'echo only-once', messageId: 'second' }, 'signal');
    await setup.proxy.answered(1);
    await workers.spawn();
    await first.kill('SIGKILL');
    const done = await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'second' && i.queued === 0, TURN_WAIT_MS);
    assert.deepEqual(await userMessages(conversations, id), ['echo first', 'echo only-once'], 'posted once, never again');
    const replies = await agentReplies(conversations, id);
    assert.equal(replies.length, 2, JSON.stringify(replies));
    assert.equal(done.delivered, 2);
    assert.equal(done.status, 'RUNNING');
    await conversations.close(id);
    assert.equal((await conversations.result(id)).info.status, 'ARCHIVED');
  });
});

describe('a message the runtime refuses during the resume (shell agent, proxy answering 413)', () => {
  let setup: AgentStack;
  before(async () => {
    // Refused at the resume's delivery and again by deliverMessage, as a real 413 would be.
    setup = await setUp([
      { matches: postsMessage, action: 'hold', holdMs: 0, times: 1 },
      { matches: postsMessage, action: 'refuse', status: 413, times: 2 },
    ]);
  });
  after(() => setup?.close());

  test('is reported to the waiting sender; the conversation runs on and the next message goes through', async () => {
    const { conversations } = setup.stack;
    const id = await pausedConversation(setup.stack, 'resume-refused');
    const refused = await conversations.send(id, { text: 'echo too-big', messageId: 'big', waitFor: 'turn' });
    assert.equal(refused?.outcome?.result, 'refused');
    assert.match(refused?.outcome?.reason ?? '', /413/);
    const info = await conversations.info(id);
    assert.equal(info.refused, 1);
    assert.equal(info.status, 'RUNNING');
    const answered = await conversations.send(id, { text: 'echo fine', messageId: 'ok', waitFor: 'turn' });
    assert.deepEqual(answered?.outcome, { messageId: 'ok', result: 'answered', executionStatus: 'finished' });
    assert.deepEqual(await userMessages(conversations, id), ['echo first', 'echo fine']);
    await conversations.close(id);
  });
});

describe('a message the server saved but failed on afterwards (shell agent, proxy answering 400 to the search after the post)', () => {
  let setup: AgentStack;
  before(async () => {
    setup = await setUp([{ matches: searchesEvents, action: 'refuse', status: 400, times: 1 }]);
  });
  after(() => setup?.close());

  test('leaves the workflow a count too low; the next message, after a pause, is posted all the same', async () => {
    const { conversations } = setup.stack;
    const id = uniqueId('resume-stale');
    await conversations.start({ conversationId: id, userId: uniqueId('resume-stale-user') });
    await conversations.waitUntilReady(id);
    // Saved by the agent server, then reported refused: the workflow does not count it.
    const first = await conversations.send(id, { text: 'echo first', messageId: 'first', waitFor: 'turn' });
    assert.equal(first?.outcome?.result, 'refused');
    assert.equal(setup.proxy.applied[0], 1, 'the fault was played');
    await conversations.pause(id);
    await waitForInfo(conversations, id, (info) => info.status === 'STOPPED');
    const second = await conversations.send(id, { text: 'echo second', messageId: 'second', waitFor: 'turn' });
    assert.equal(second?.outcome?.result, 'answered');
    assert.deepEqual(await userMessages(conversations, id), ['echo first', 'echo second'], 'the second message reached the agent');
    await conversations.close(id);
  });
});
