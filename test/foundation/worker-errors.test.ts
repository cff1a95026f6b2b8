// Which Temporal answers mean "no worker runs this workflow now" and which "Temporal cannot be
// reached", on the error shapes the SDK throws: a gRPC error wrapped in ServiceError (updates,
// queries), the bare one an update-with-start rethrows with its failing operation's message, and
// grpc-js's own deadline. rotation.test.ts meets the first two for real (a worker without the key),
// where ConversationClient also reads the failure itself from the history.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServiceError } from '@temporalio/client';
import { ConversationWorkerError, TemporalUnavailableError, translateClientError } from '../../src/client-errors.js';
import type { ClientCall } from '../../src/client-errors.js';

/** What grpc-js throws: an Error with the status code, the server's text and the trailing metadata. */
const grpcError = (code: number, details: string, message = `${code} ${details}`) => Object.assign(new Error(message), { code, details, metadata: {} });

const send: ClientCall = { address: '127.0.0.1:7233', action: 'send message m-1 to conversation c-1', messageId: 'm-1', change: true };
const start: ClientCall = { address: '127.0.0.1:7233', action: 'start conversation c-1', messageId: 'm-1', change: true, starts: true };
const read: ClientCall = { address: '127.0.0.1:7233', action: 'read conversation c-1' };

function thrown(error: unknown, call: ClientCall): Error {
  try {
    translateClientError('c-1', error, call);
  } catch (translated) {
    assert.ok(translated instanceof Error);
    return translated;
  }
  assert.fail('translateClientError returned');
}

describe('no worker runs the workflow vs Temporal unreachable', () => {
  test('an update refused while the workflow task fails: ConversationWorkerError, the message not accepted', () => {
    const error = thrown(new ServiceError('Workflow Update failed', { cause: grpcError(9, 'Unable to perform workflow execution update due to Workflow Task in failed state.') }), send);
    assert.ok(error instanceof ConversationWorkerError, String(error));
    assert.equal(error.messageId, 'm-1');
    assert.equal(error.message, 'cannot send message m-1 to conversation c-1: no worker can run its workflow now (its workflow task is failing); the worker\'s log says why; the message was NOT accepted: send it again with the same messageId "m-1" once a worker runs the conversation');
  });

  test('an update the server aborted on an unexpected workflow task failure: the same', () => {
    const error = thrown(new ServiceError('Workflow Update failed', { cause: grpcError(9, 'Unable to perform workflow execution update due to unexpected workflow task failure.') }), send);
    assert.ok(error instanceof ConversationWorkerError, String(error));
  });

  test('an update-with-start: the operation\'s text is in message, the generic one in details; the run is said to exist', () => {
    const bare = grpcError(9, 'Update-with-Start could not be executed.', 'Unable to perform workflow execution update due to Workflow Task in failed state.');
    const error = thrown(bare, start);
    assert.ok(error instanceof ConversationWorkerError, String(error));
    assert.match(error.message, /^cannot start conversation c-1: no worker can run its workflow now \(its workflow task is failing\)/);
    assert.match(error.message, /the message was NOT accepted.*; the run was created all the same and goes on once a worker can run it/);
  });

  test('a query no worker answered: ConversationWorkerError, not "cannot reach Temporal"', () => {
    const error = thrown(new ServiceError('Failed to query Workflow', { cause: grpcError(4, 'query timed out before a worker could process it') }), read);
    assert.ok(error instanceof ConversationWorkerError, String(error));
    assert.equal(error.message, 'cannot read conversation c-1: no worker can run its workflow now (no worker answered the query in time); the worker\'s log says why');
  });

  test('the client\'s own deadline, and any other FAILED_PRECONDITION, are not blamed on the worker', () => {
    assert.ok(thrown(grpcError(4, 'Deadline exceeded after 10.002s'), read) instanceof TemporalUnavailableError);
    const other = grpcError(9, 'Namespace is not active.');
    assert.equal(thrown(other, send), other);
  });
});
