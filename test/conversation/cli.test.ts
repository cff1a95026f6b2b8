// The CLI as a user runs it (src/cli.ts in its own process) against a real worker,
// Runtime API and sandboxes: help everywhere, a readable transcript, `send --wait`
// printing the reply as it comes, status words explained, and the transcript still
// there after close.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConversationClient, ConversationClosedError } from '../../src/client.js';
import { startConversationStack } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';
import { runCli, stackCliEnv } from '../support/cli-process.js';
import { freePort } from '../../src/temporal/dev-server.js';

describe('the CLI: help, transcript, send --wait, after close', () => {
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack({ keepTranscripts: true });
  });
  after(async () => {
    await stack?.close();
  });

  const cli = (...args: string[]) => runCli(args, stackCliEnv(stack));
  const ok = async (...args: string[]) => {
    const run = await cli(...args);
    assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
    return run.stdout;
  };

  test('help, help <command>, <command> --help; an unknown option names itself and shows the usage', async () => {
    const all = await ok('help');
    assert.match(all, /usage: conversations <command>/);
    assert.match(all, /STOPPED\s+paused/);
    assert.match(all, /ARCHIVED\s+closed/);
    assert.match(await ok('help', 'send'), /usage: conversations send <id> <text>.*--wait/);
    assert.match(await ok('events', '--help'), /--json prints the raw agent-server events/);
    const unknown = await cli('list', '--bogus');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Unknown option '--bogus'/);
    assert.match(unknown.stderr, /usage: conversations <command>/);
  });

  test('a transcript by default, raw with --json; send --wait prints the reply and how the turn ended; after close, events still answer', async () => {
    const id = uniqueId('cli');
    const started = JSON.parse(await ok('start', id, '--user', 'cli-user', '--message', 'echo first-reply')) as { ack: { position: number; positionMeaning: string } };
    assert.equal(started.ack.position, 1);
    assert.match(started.ack.positionMeaning, /goes to the agent next/);

    const waited = await ok('send', id, 'echo second-reply', '--wait');
    const lines = waited.trim().split('\n');
    assert.match(lines.at(-1) ?? '', /^turn ended \(answered, agent finished\)$/, waited);
    assert.ok(lines.some((line) => /agent\s+second-reply$/.test(line)), `the reply was printed before the end:\n${waited}`);

    const transcript = await ok('events', id);
    for (const expected of [/user\s+echo first-reply$/m, /agent\s+→ terminal: echo first-reply$/m, /agent\s+first-reply$/m, /agent\s+second-reply$/m]) {
      assert.match(transcript, expected);
    }
    const raw = JSON.parse(await ok('events', id, '--json')) as { items: Array<{ kind: string }> };
    assert.ok(raw.items.some((event) => event.kind === 'MessageEvent'));

    const info = JSON.parse(await ok('info', id)) as { status: string; statusMeaning: string };
    assert.equal(info.status, 'RUNNING');
    assert.match(info.statusMeaning, /^running/);

    await ok('close', id);
    await stack.conversations.result(id);
    const afterClose = await ok('events', id);
    assert.match(afterClose, /agent\s+second-reply$/m, 'the transcript kept at close');
    const closedInfo = JSON.parse(await ok('info', id)) as { status: string; statusMeaning: string };
    assert.equal(closedInfo.status, 'ARCHIVED');
    assert.match(closedInfo.statusMeaning, /^closed/);

    // With the Runtime API at a closed port, events says where it looked and what to set.
    const id2 = uniqueId('cli-no-api');
    await ok('start', id2, '--user', 'cli-user');
    await stack.conversations.waitUntilReady(id2);
    const unreachable = await runCli(['events', id2], {
      ...process.env,
      TEMPORAL_TASK_QUEUE: stack.temporal.taskQueue,
      RUNTIME_API_URL: `http://127.0.0.1:${await freePort()}`,
      RUNTIME_API_KEY: 'unused',
      DATA_DIR: stack.dataDir,
    });
    assert.equal(unreachable.code, 1, unreachable.stdout);
    assert.match(unreachable.stderr, /RuntimeApiUnavailableError: cannot reach the Runtime API at http:\/\/127\.0\.0\.1:\d+ to read the events of conversation/);
    assert.match(unreachable.stderr, /ECONNREFUSED/);
    assert.match(unreachable.stderr, /set RUNTIME_API_URL \(and RUNTIME_API_KEY\) to it/);
    await ok('close', id2);

    // A client that does not share the workers' data folder says where the transcript went.
    const elsewhere = new ConversationClient({ client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, runtimeApi: stack.runtimeApi });
    await assert.rejects(elsewhere.events(id), (error: unknown) => {
      assert.ok(error instanceof ConversationClosedError, String(error));
      assert.match(error.message, /its runtime is stopped; the workers keep transcripts in their DATA_DIR\/transcripts/);
      return true;
    });
  });
});
