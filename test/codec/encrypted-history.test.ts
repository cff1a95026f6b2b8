// Nothing a user sends or an agent answers is readable in Temporal: a lifecycle and the
// fault scenarios (a runtime stopped behind the workflow's back, a sandbox killed
// mid-turn, provisioning that fails and is compensated) run on real sandboxes, then every
// run's history is exported (by the SDK and by `temporal workflow show --output json`) and
// searched, raw and base64-decoded, for every message text, reply text and key: 0 hits;
// failure messages show only the SDK's "Encoded failure" placeholder.
// The same exports decrypted with the codec do contain the texts (the search can see them).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readKeyFile } from '../../src/codec/keys.js';
import { createCodecServer } from '../../src/codec/server.js';
import { projectRoot, toolsDir } from '../../src/temporal/server.js';
import { TEMPORAL_CLI, projectInstallPath } from '../../src/temporal/tool-resolver.js';
import { TEST_KEY_FILE, testCodec } from '../support/codec.js';
import { agentReplies, startConversationStack, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { decryptedHistoryText, exportedHistories, hits, searchableText } from '../support/history-search.js';
import { temporalAddress, uniqueId } from '../support/temporal.js';

const run = promisify(execFile);

/** A message whose reply differs from its text: the shell computes part of it. */
function message(label: string): { text: string; reply: string } {
  const nonce = randomBytes(6).toString('hex');
  return { text: `echo ${label}-$((6*7))-${nonce}`, reply: `${label}-42-${nonce}` };
}

describe('encrypted history: no message, reply or key in any export', () => {
  let stack: ConversationStack;
  let crashing: ConversationStack;
  const needles: Record<string, string> = {};
  const ids: string[] = [];
  before(async () => {
    stack = await startConversationStack({ policy: { idleDelayMs: 1_500, retentionMs: 60_000 } });
    crashing = await startConversationStack({ server: { faults: { crashOnStart: true }, maxRestarts: 1 } });
    const key = (await readKeyFile(TEST_KEY_FILE))[0].key.toString('base64');
    Object.assign(needles, { 'Runtime API key': stack.runtimeApiKey, 'faulty Runtime API key': crashing.runtimeApiKey, 'encryption key': key });
  });
  after(async () => {
    await stack?.close();
    await crashing?.close();
  });

  async function send(id: string, label: string, wait = true) {
    const m = message(label);
    needles[`${id} ${label} text`] = m.text;
    needles[`${id} ${label} reply`] = m.reply;
    await stack.conversations.send(id, { text: m.text, ...(wait && { waitFor: 'turn' as const }) });
    return m;
  }

  test('lifecycle: start with a message, idle pause, resume on a message, close', async () => {
    const { conversations } = stack;
    const id = uniqueId('enc-life');
    ids.push(id);
    const first = message('first');
    Object.assign(needles, { [`${id} first text`]: first.text, [`${id} first reply`]: first.reply });
    await conversations.start({ conversationId: id, userId: 'enc', message: { text: first.text } });
    await waitForInfo(conversations, id, (i) => i.status === 'STOPPED');
    const second = await send(id, 'second');
    const session = await stack.runtimeApi.getSession(id);
    needles[`${id} session key`] = session?.session_api_key ?? assert.fail('no session key');
    assert.deepEqual(await agentReplies(conversations, id), [`${first.reply}\n`, `${second.reply}\n`]);
    await conversations.close(id, 'done');
    await conversations.result(id);
  });

  test('faults: a runtime stopped behind the workflow, a sandbox killed mid-turn', async () => {
    const { conversations, runtimeApi, server } = stack;
    const id = uniqueId('enc-fault');
    ids.push(id);
    await conversations.start({ conversationId: id, userId: 'enc' });
    const ready = await conversations.waitUntilReady(id);
    await send(id, 'before-stop');
    await runtimeApi.stop(ready.runtimeId as string);
    await send(id, 'after-stop');
    const slow = message('slow');
    Object.assign(needles, { [`${id} slow text`]: `sleep 3; ${slow.text}`, [`${id} slow reply`]: slow.reply });
    await conversations.send(id, { text: `sleep 3; ${slow.text}`, messageId: 'slow' });
    const running = await waitForInfo(conversations, id, (i) => i.turnMessageId === 'slow' && i.executionStatus === 'running', 60_000);
    process.kill(server.sandboxPid(running.runtimeId as string) as number, 'SIGKILL');
    await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'slow' && i.queued === 0, 120_000);
    await conversations.close(id);
    await conversations.result(id);
  });

  test('faults: provisioning fails on a crashing sandbox and is compensated', async () => {
    const id = uniqueId('enc-comp');
    const lost = message('lost');
    Object.assign(needles, { [`${id} lost text`]: lost.text });
    await crashing.conversations.start({ conversationId: id, userId: 'enc', message: { text: lost.text } });
    await crashing.conversations.result(id).catch(() => undefined);
    ids.push(id);
  });

  test('every export of every run: 0 hits raw and base64-decoded; decrypted, the texts are there', async () => {
    const codec = await testCodec();
    assert.ok(Object.keys(needles).length >= 14, `needles: ${Object.keys(needles).join(', ')}`);
    let exports = 0;
    let failureMessages = 0;
    for (const id of ids) {
      // Visibility is eventually consistent: wait until the closed runs are listed.
      let histories: string[] = [];
      for (let attempt = 0; attempt < 50 && histories.length < 2; attempt++) {
        histories = await exportedHistories(stack.temporal.client, id);
        if (histories.length < 2) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.ok(histories.length >= 2, `${id}: exported by the SDK and the CLI`);
      for (const json of histories) {
        exports++;
        assert.deepEqual(hits(searchableText(json), needles), [], `${id}: found in an export`);
        assert.ok(json.includes(Buffer.from('binary/encrypted').toString('base64')), `${id}: payloads are marked encrypted`);
        // Failure messages and stack traces travel encrypted too (encodeCommonAttributes): only the SDK's placeholder shows.
        const messages = [...json.matchAll(/"message":\s*"([^"]*)"/g)].map(([, message]) => message);
        failureMessages += messages.length;
        assert.deepEqual([...new Set(messages)].filter((m) => m !== 'Encoded failure'), [], `${id}: failure messages in the clear`);
      }
      const decrypted = await decryptedHistoryText(histories[0] as string, codec);
      const ownTexts = Object.entries(needles).filter(([name]) => name.startsWith(`${id} `) && name.endsWith(' text'));
      for (const [name, text] of ownTexts) assert.ok(decrypted.includes(JSON.stringify(text).slice(1, -1)), `decrypted history has ${name}`);
    }
    assert.ok(exports >= 6);
    assert.ok(failureMessages > 0, 'the scenarios recorded failures (compensation, the killed sandbox)');
  });

  test('the temporal CLI decrypts every history through the codec server (Authorization: Bearer)', async (t) => {
    const token = randomBytes(24).toString('base64url');
    const codecServer = await createCodecServer({ codec: await testCodec(), token, allowedOrigins: [] });
    t.after(() => codecServer.close());
    const textOf = (candidate: string) => Object.entries(needles).find(([name]) => name.startsWith(`${candidate} `) && name.endsWith(' text'))?.[1];
    const show = (id: string, ...extra: string[]) =>
      run(projectInstallPath(TEMPORAL_CLI, toolsDir(projectRoot)), ['workflow', 'show', '--workflow-id', id, '--address', temporalAddress(), '--output', 'json', ...extra], { maxBuffer: 64 * 1024 * 1024 });
    const shown = ids.filter((id) => textOf(id) !== undefined);
    assert.ok(shown.length >= 2);
    for (const id of shown) {
      // Every history holds events without arguments, whose payload lists the CLI sends as `{}`.
      const { stdout } = await show(id, '--codec-endpoint', codecServer.url, '--codec-auth', `Bearer ${token}`, '--command-timeout', '2m');
      const text = textOf(id) as string;
      assert.ok(stdout.includes(JSON.stringify(text).slice(1, -1)) || searchableText(stdout).includes(text), `${id} decrypted through the codec server`);
    }
    await assert.rejects(show(shown[0] as string, '--codec-endpoint', codecServer.url), 'without the token the CLI cannot decode');
  });
});
