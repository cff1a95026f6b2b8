// A key rotation with the real worker and CLI processes (`npm run worker`, `npm run cli`):
// conversations started under key 1 are continued and read after key 2 is put first, new
// ones are encrypted with key 2, and a process that lacks key 2 gets an error naming it.
// Rotated in the wrong order (the CLI on key 2 before the worker has it), the CLI is told
// the worker cannot run the conversation, and the message it refused goes through later.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { METADATA_KEY_ID } from '../../src/codec/encryption-codec.js';
import { formatKeys, generateKey } from '../../src/codec/keys.js';
import { startConversationStack } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';
import { spawnWorker } from '../support/worker-process.js';
import type { WorkerProcess } from '../support/worker-process.js';
import { runCli } from '../support/cli-process.js';

const key1 = generateKey('rotation-k1');
const key2 = generateKey('rotation-k2');
const BEFORE = formatKeys([key1]).replace(/\n/g, ',');
const AFTER = formatKeys([key2, key1]).replace(/\n/g, ',');
/** Set the keys, and unset the test key file `npm test` hands every child (both at once are refused). */
const keys = (list: string) => ({ ENCRYPTION_KEYS: list, ENCRYPTION_KEYS_FILE: '' });

describe('key rotation across the worker and the CLI', () => {
  let stack: ConversationStack;
  let worker: WorkerProcess | undefined;
  before(async () => {
    // The stack's own client is not used: every call goes through the CLI, with the keys given.
    stack = await startConversationStack({ noWorker: true });
  });
  after(async () => {
    await worker?.kill();
    await stack?.close();
  });

  async function cli(list: string, ...args: string[]): Promise<{ code: number; out: unknown; stderr: string }> {
    const env = { ...process.env, ...keys(list), TEMPORAL_TASK_QUEUE: stack.temporal.taskQueue, RUNTIME_API_URL: stack.server.url, RUNTIME_API_KEY: stack.runtimeApiKey };
    const { code, stdout, stderr } = await runCli(args, env);
    return { code, out: code === 0 ? JSON.parse(stdout) : undefined, stderr };
  }
  const ok = async (list: string, ...args: string[]) => {
    const result = await cli(list, ...args);
    assert.equal(result.code, 0, result.stderr);
    return result.out as Record<string, unknown>;
  };
  const startWorker = (list: string) => spawnWorker({ taskQueue: stack.temporal.taskQueue, runtimeApiUrl: stack.server.url, runtimeApiKey: stack.runtimeApiKey, env: keys(list) });
  /** Key IDs of the payloads in the conversation's history, in order. */
  async function keyIdsInHistory(id: string): Promise<string[]> {
    const json = historyToJSON(await stack.temporal.client.workflow.getHandle(id).fetchHistory());
    return [...json.matchAll(new RegExp(`"${METADATA_KEY_ID}":\\s*"([A-Za-z0-9+/=]+)"`, 'g'))].map(([, id64]) => Buffer.from(id64 as string, 'base64').toString('utf8'));
  }
  const outcome = (ack: Record<string, unknown>) => (ack.outcome as { result?: string } | undefined)?.result;

  test('started under key 1, continued and read after key 2 is added; a process without key 2 is told its ID', async () => {
    const old = uniqueId('rot-old');
    worker = await startWorker(BEFORE);
    await ok(BEFORE, 'start', old, '--user', 'rot', '--message', 'echo under-key-1');
    await ok(BEFORE, 'ready', old);
    assert.equal(outcome(await ok(BEFORE, 'send', old, 'echo still-key-1', '--wait', '--json')), 'answered');

    // Rotate: a new worker and CLI with key 2 first and key 1 kept for reading.
    await worker.kill('SIGTERM');
    worker = await startWorker(AFTER);
    const continued = await ok(AFTER, 'send', old, 'echo after-rotation', '--wait', '--json');
    assert.equal(outcome(continued), 'answered', 'the new worker replayed the key-1 history and delivered');
    const info = await ok(AFTER, 'info', old);
    assert.equal(info.delivered, 3);
    const fresh = uniqueId('rot-new');
    await ok(AFTER, 'start', fresh, '--user', 'rot', '--message', 'echo under-key-2');
    await ok(AFTER, 'ready', fresh);

    const oldIds = await keyIdsInHistory(old);
    assert.ok(oldIds.includes('rotation-k1') && oldIds.includes('rotation-k2'), `the old conversation holds payloads of both keys: ${oldIds.join(' ')}`);
    assert.deepEqual([...new Set(await keyIdsInHistory(fresh))], ['rotation-k2'], 'a new conversation is encrypted with key 2 only');

    // A CLI still on key 1 alone cannot read what key 2 wrote, and says which key it lacks.
    const stale = await cli(BEFORE, 'info', fresh);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /key ID "rotation-k2", which is not among the configured keys \("rotation-k1"\)/);
    assert.ok(!stale.stderr.includes(key1.key.toString('base64')) && !stale.stderr.includes(key2.key.toString('base64')), 'no key bytes in the error');

    await ok(AFTER, 'close', old);
    await ok(AFTER, 'close', fresh);
  });

  test('the CLI on key 2 before the worker has it: told no worker can run the conversation, and the message goes through once the worker has the key', async () => {
    await worker?.kill('SIGTERM');
    worker = await startWorker(BEFORE);
    const id = uniqueId('rot-early');
    const messageId = `early-${id}`;
    // The run starts, but its first workflow task fails on a payload the worker cannot decrypt: the message is refused, not lost.
    const refused = await cli(AFTER, 'start', id, '--user', 'rot', '--message', 'echo too-early', '--message-id', messageId);
    assert.equal(refused.code, 1);
    // Read from the history, so a CLI user without the worker's log learns the cause too.
    assert.match(refused.stderr, /ConversationWorkerError: cannot start conversation rot-early-\S+: no worker can run its workflow now \(its workflow task fails: payload was encrypted with key ID "rotation-k2", which is not among the configured keys \("rotation-k1"\)/);
    assert.ok(!refused.stderr.includes(key1.key.toString('base64')) && !refused.stderr.includes(key2.key.toString('base64')), 'no key bytes in the error');
    assert.match(refused.stderr, new RegExp(`the message was NOT accepted: send it again with the same messageId "${messageId}"`));
    assert.match(refused.stderr, /the run was created all the same and goes on once a worker can run it: start again with the same ID to join it, or close it/);
    const read = await cli(AFTER, 'info', id);
    assert.equal(read.code, 1);
    assert.match(read.stderr, /ConversationWorkerError: cannot read conversation \S+: no worker can run its workflow now/);
    assert.doesNotMatch(read.stderr, /cannot reach Temporal/, 'Temporal answered: the fault is not the server');

    // The worker gets key 2; the same message, sent again as told, is delivered once.
    await worker.kill('SIGTERM');
    worker = await startWorker(AFTER);
    const deadline = Date.now() + 120_000;
    let sent = await cli(AFTER, 'send', id, 'echo too-early', '--message-id', messageId, '--wait', '--json');
    // Until the server hands the failed workflow task to the new worker (its retries back off), the refusal stands.
    while (sent.code !== 0 && /ConversationWorkerError/.test(sent.stderr) && Date.now() < deadline) {
      await sleep(2_000);
      sent = await cli(AFTER, 'send', id, 'echo too-early', '--message-id', messageId, '--wait', '--json');
    }
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(outcome(sent.out as Record<string, unknown>), 'answered');
    assert.equal((await ok(AFTER, 'info', id)).delivered, 1);
    await ok(AFTER, 'close', id);
  });
});
