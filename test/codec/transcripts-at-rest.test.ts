// Transcripts kept at close are encrypted at rest when payload encryption is on: sealed by
// the payload codec (the same key ring as history), so the worker's data folder holds no
// message or reply in the clear, and `events` after close still reads them, after a key
// rotation too. A process without the keys is told what it lacks.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EncryptionCodec, UnknownEncryptionKeyError } from '../../src/codec/encryption-codec.js';
import { generateKey } from '../../src/codec/keys.js';
import { isMessageFrom, messageText } from '../../src/runtime-api/index.js';
import { TranscriptEncryptedError, readTranscript, transcriptDirOf, writeTranscript } from '../../src/transcripts.js';
import type { AgentEvent } from '../../src/runtime-api/index.js';
import { startConversationStack, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';

describe('transcripts at rest', () => {
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack({ keepTranscripts: true, sealTranscripts: true });
  });
  after(async () => {
    await stack?.close();
  });

  test('a closed conversation\'s transcript is sealed (0600, nothing in the clear) and events still reads it', async () => {
    const id = uniqueId('sealed');
    const secret = `tangerine-${uniqueId('s')}`;
    await stack.conversations.start({ conversationId: id, userId: 'tess', message: { text: `echo ${secret}`, messageId: 'm1' } });
    await waitForInfo(stack.conversations, id, (i) => i.delivered === 1 && i.executionStatus === 'finished');
    await stack.conversations.close(id);
    await stack.conversations.result(id);

    const dir = transcriptDirOf(stack.dataDir);
    const files = (await readdir(dir)).filter((name) => name.startsWith(id));
    assert.deepEqual(files, [`${id}.jsonl.enc`], 'only the sealed form is kept');
    const file = path.join(dir, `${id}.jsonl.enc`);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.ok(!(await readFile(file)).includes(secret), 'the message is not in the file in the clear');

    // The stack's client has the test key in its data converter: the transcript opens.
    const events = await stack.conversations.allEvents(id);
    assert.deepEqual(events.filter((e) => isMessageFrom(e, 'agent')).map(messageText), [`${secret}\n`]);

    // A process without the keys is told what it lacks.
    await assert.rejects(readTranscript(dir, id), TranscriptEncryptedError);
  });

  describe('the file format', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'dc-transcripts-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    const events = [{ id: 'e1', kind: 'MessageEvent', source: 'user', timestamp: '2026-01-01T00:00:00Z' }] as unknown as AgentEvent[];

    test('a key rotation still opens it; a ring without its key names the key ID', async () => {
      const old = generateKey('k-old');
      await writeTranscript(dir, 'rotated', events, [new EncryptionCodec([old])]);
      const rotated = new EncryptionCodec([generateKey('k-new'), old]);
      assert.equal((await readTranscript(dir, 'rotated', [rotated]))?.length, 1);
      await assert.rejects(readTranscript(dir, 'rotated', [new EncryptionCodec([generateKey('k-other')])]), UnknownEncryptionKeyError);
    });

    test('one transcript per conversation: writing sealed removes a clear one kept before encryption was on', async () => {
      await writeFile(path.join(dir, 'both.jsonl'), `${JSON.stringify(events[0])}\n`);
      assert.equal((await readTranscript(dir, 'both'))?.length, 1, 'a transcript from before reads as it was');
      await writeTranscript(dir, 'both', events, [new EncryptionCodec([generateKey('k1')])]);
      assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('both')), ['both.jsonl.enc']);
    });
  });
});
