// A Temporal that cannot be reached gives typed errors that name the address: at connect
// (at once for a closed port, not after the SDK's 10 s deadline), and for sends, signals
// and reads while a private dev server is down, saying the message was not acknowledged.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { ConversationClient, TemporalUnavailableError } from '../../src/client.js';
import { freePort, startDevServer } from '../../src/temporal/dev-server.js';
import { projectRoot, toolsDir } from '../../src/temporal/server.js';
import { TEMPORAL_CLI, projectInstallPath } from '../../src/temporal/tool-resolver.js';
import { projectSearchAttributes } from '../../src/workflows/search-attributes.js';
import { testDataConverter } from '../support/codec.js';

/** Well under the SDK's own 10 s connect deadline, well over a refused connect on a busy machine. */
const CONNECT_REFUSED_WITHIN_MS = 5_000;

function isUnavailable(address: string, ...fragments: RegExp[]) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof TemporalUnavailableError, String(error));
    assert.equal(error.address, address);
    assert.ok(error.message.startsWith(`cannot reach Temporal at ${address}`), error.message);
    for (const fragment of fragments) assert.match(error.message, fragment);
    return true;
  };
}

describe('Temporal unreachable: typed errors that name the address', () => {
  test(`connecting to a closed port fails within ${CONNECT_REFUSED_WITHIN_MS / 1000} s with TemporalUnavailableError`, async () => {
    const address = `127.0.0.1:${await freePort()}`; // free = nothing listens
    const started = Date.now();
    await assert.rejects(
      ConversationClient.connect({ address, taskQueue: 'nobody', dataConverter: await testDataConverter() }),
      isUnavailable(address, /ECONNREFUSED/, /is the server running\? set TEMPORAL_ADDRESS/),
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed < CONNECT_REFUSED_WITHIN_MS, `took ${elapsed} ms`);
  });

  test('a server stopped mid-way: an update in flight, then signal, update, pause and info all fail typed; 0 messages acknowledged', async (t) => {
    const executable = projectInstallPath(TEMPORAL_CLI, toolsDir(projectRoot));
    const server = await startDevServer({ executable, port: await freePort(), searchAttributes: projectSearchAttributes });
    t.after(() => server.stop());
    // Fewer gRPC retries than the SDK's 10 (about 20 s per call), so the test takes seconds; the errors are the same.
    const connection = await Connection.connect({
      address: server.address,
      interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 3 }))],
    });
    t.after(() => connection.close());
    // No worker polls this queue: an update waits for one, so it is still in flight when the server goes.
    const conversations = new ConversationClient({ client: new Client({ connection, dataConverter: await testDataConverter() }), taskQueue: 'nobody-polls' });
    await conversations.start({ conversationId: 'outage-1', userId: 'gil', waitForAdmission: false }); // no worker will decide
    const inFlight = conversations.send('outage-1', { text: 'echo one', messageId: 'msg-1' });
    inFlight.catch(() => undefined); // asserted below, after the stop
    await new Promise((resolve) => setTimeout(resolve, 500));
    await server.stop();

    const notAcknowledged = (messageId: string) => isUnavailable(server.address, /UNAVAILABLE/, new RegExp(`message was NOT acknowledged.*same messageId "${messageId}"`));
    await assert.rejects(inFlight, notAcknowledged('msg-1'));
    await assert.rejects(conversations.send('outage-1', { text: 'echo two', messageId: 'msg-2' }, 'signal'), notAcknowledged('msg-2'));
    await assert.rejects(conversations.send('outage-1', { text: 'echo three', messageId: 'msg-3' }), notAcknowledged('msg-3'));
    // A generated message ID is in the error, so the caller can retry with it.
    await assert.rejects(conversations.send('outage-1', { text: 'echo four' }, 'signal'), (error: unknown) => {
      assert.ok(error instanceof TemporalUnavailableError && typeof error.messageId === 'string' && error.message.includes(error.messageId), String(error));
      return true;
    });
    await assert.rejects(conversations.pause('outage-1'), isUnavailable(server.address, /to pause conversation outage-1/, /request was NOT acknowledged/));
    await assert.rejects(conversations.info('outage-1'), isUnavailable(server.address, /to read conversation outage-1/));
    await assert.rejects(conversations.list({ userId: 'gil' }), isUnavailable(server.address, /to list conversations/));
  });
});
