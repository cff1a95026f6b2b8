// The current details the Temporal UI shows on a conversation's page, in an operator's
// words: what the status means, no "agent: running" once closed, the turn and since when,
// the last error with its time and whether the conversation got past it, durations in words.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { currentDetails, inWords } from '../../src/workflows/details.js';
import { DEFAULT_POLICY } from '../../src/workflows/state.js';
import type { ConversationState } from '../../src/workflows/state.js';

const T0 = Date.parse('2026-12-02T10:00:00Z');

function state(overrides: Partial<ConversationState>): ConversationState {
  return {
    conversationId: 'c-1',
    userId: 'u-1',
    policy: DEFAULT_POLICY,
    status: 'RUNNING',
    runtime: { id: 'rt-1', state: 'running', replaced: 0 },
    executionStatus: 'running',
    queue: [],
    recentMessageIds: [],
    received: 2,
    delivered: 2,
    duplicates: 0,
    lastActivityAt: T0,
    requested: { pause: false, resume: false },
    ...overrides,
  };
}

describe('current details', () => {
  test('durations in words', () => {
    assert.equal(inWords(20 * 60_000), '20 minutes');
    assert.equal(inWords(7 * 86_400_000), '7 days');
    assert.equal(inWords(90_000), '1.5 minutes');
    assert.equal(inWords(1_000), '1 second');
    assert.equal(inWords(500), '500 ms');
  });

  test('a running turn: what the status means, the turn and since when, the policy in words', () => {
    const turn = { messageId: 'm-2', runtimeId: 'rt-1', generation: 1, since: '2026-12-02T10:00:01', userMessages: 2 };
    const queue = [{ messageId: 'm-2', text: 'x', receivedAt: T0 }, { messageId: 'm-3', text: 'y', receivedAt: T0 }];
    const text = currentDetails(state({ turn, queue }));
    assert.match(text, /messages: 2 received, 2 delivered, 1 waiting for their turn/);
    // Published at the turn's end, before the loop takes the message off the queue.
    const ended = currentDetails(state({ turn, queue, executionStatus: 'finished' }));
    assert.doesNotMatch(ended, /turn in progress/);
    assert.match(ended, /agent: finished/);
    assert.match(text, /^\*\*RUNNING\*\* \(running\) — conversation `c-1` of user `u-1`/);
    assert.match(text, /turn in progress: message `m-2` since 2026-12-02T10:00:01/);
    assert.match(text, /policy: pause after 20 minutes idle, close after 7 days paused, close stops the runtime/);
    assert.doesNotMatch(text, /\d{6,} ?ms/, 'no durations in milliseconds');
  });

  test('paused and closed say so in words; a closed one does not claim its agent runs', () => {
    assert.match(currentDetails(state({ status: 'STOPPED', runtime: { id: 'rt-1', state: 'paused', replaced: 0 } })), /\*\*STOPPED\*\* \(paused — the next message resumes it\)/);
    const closed = currentDetails(state({ status: 'ARCHIVED', runtime: { id: 'rt-1', state: 'stopped', replaced: 0 } }));
    assert.match(closed, /\*\*ARCHIVED\*\* \(closed — its runtime was stopped\)/);
    assert.doesNotMatch(closed, /agent: running/);
  });

  test('the last error has its time and says whether the conversation got past it', () => {
    const error = { type: 'RuntimeDisconnectedError', message: 'runtime not found', at: T0 };
    assert.match(currentDetails(state({ lastError: error, lastActivityAt: T0 + 5_000 })), /last error at 2026-12-02T10:00:00\.000Z \(recovered since\): RuntimeDisconnectedError: runtime not found/);
    assert.match(currentDetails(state({ lastError: error, lastActivityAt: T0 - 1 })), /\(not recovered yet\)/);
  });
});
