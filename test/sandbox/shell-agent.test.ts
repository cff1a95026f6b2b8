// The built-in shell agent over HTTP: runs, ordering, 409, pause, DELETE, time limits
// that kill whole process trees, the output cap, and freezing with signalCommands.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { processAlive, readPid, sleep, startTestServer, waitFor } from './support.js';

describe('runs', () => {
  test('a message with run:true runs, shows running, ends finished with the output', async (t) => {
    const { api } = await startTestServer(t);
    const id = await api.create();
    await api.send(id, 'sleep 0.3; echo hello; echo oops >&2; exit 3');
    assert.equal(await api.status(id), 'running');
    await api.waitForStatus(id, 'finished');
    const [reply] = await api.replies(id);
    assert.ok(reply);
    assert.equal(reply.text, 'hello\noops\n');
    assert.equal(reply.exit_code, 3);
    assert.equal(reply.timed_out, false);
    const kinds = (await api.events(id)).map((e) => `${e['kind']}:${e['value'] ?? e['source']}`);
    assert.deepEqual(kinds, [
      'MessageEvent:user',
      'ConversationStateUpdateEvent:running',
      'ActionEvent:agent',
      'MessageEvent:agent',
      'ConversationStateUpdateEvent:finished',
    ]);
  });

  test('several messages run one at a time, in order', async (t) => {
    const { api, workspaceDir } = await startTestServer(t);
    const id = await api.create();
    await api.send(id, 'sleep 0.2; echo one >> order.txt; echo one', false);
    await api.send(id, 'echo two >> order.txt; echo two', false);
    await api.send(id, 'sleep 0.1; echo three >> order.txt; echo three', false);
    assert.deepEqual((await api.call('POST', `/api/conversations/${id}/run`)).body, { success: true });
    await api.waitForStatus(id, 'finished');
    assert.equal(await readFile(join(workspaceDir, id, 'order.txt'), 'utf8'), 'one\ntwo\nthree\n');
    assert.deepEqual((await api.replies(id)).map((r) => r.text), ['one\n', 'two\n', 'three\n']);
  });

  test('the initial message runs even with run:false', async (t) => {
    const { api } = await startTestServer(t);
    const id = await api.create({ initial_message: { content: [{ type: 'text', text: 'echo first' }], run: false } });
    await api.waitForStatus(id, 'finished');
    assert.deepEqual((await api.replies(id)).map((r) => r.text), ['first\n']);
  });

  test('run answers 409 while a command runs, 200 afterwards', async (t) => {
    const { api } = await startTestServer(t);
    const id = await api.create();
    await api.send(id, 'sleep 1');
    const busy = await api.call('POST', `/api/conversations/${id}/run`);
    assert.equal(busy.status, 409);
    await api.waitForStatus(id, 'finished');
    assert.equal((await api.call('POST', `/api/conversations/${id}/run`)).status, 200);
  });

  test('pause stops after the current command; run resumes the queue', async (t) => {
    const { api, workspaceDir } = await startTestServer(t);
    const id = await api.create();
    await api.send(id, 'sleep 0.4; echo a >> log.txt', false);
    await api.send(id, 'echo b >> log.txt', false);
    await api.call('POST', `/api/conversations/${id}/run`);
    assert.deepEqual((await api.call('POST', `/api/conversations/${id}/pause`)).body, { success: true });
    await api.waitForStatus(id, 'paused');
    assert.equal(await readFile(join(workspaceDir, id, 'log.txt'), 'utf8'), 'a\n', 'the current command finished, the next did not start');
    await api.call('POST', `/api/conversations/${id}/run`);
    await api.waitForStatus(id, 'finished');
    assert.equal(await readFile(join(workspaceDir, id, 'log.txt'), 'utf8'), 'a\nb\n');
    await api.call('POST', `/api/conversations/${id}/pause`);
    assert.equal(await api.status(id), 'paused', 'an idle conversation pauses at once');
  });

  test('commands do not see the server environment (SESSION_API_KEY, OH_*)', async (t) => {
    process.env['SESSION_API_KEY'] = 'leak-me';
    process.env['OH_SESSION_API_KEYS_0'] = 'leak-me-too';
    t.after(() => {
      delete process.env['SESSION_API_KEY'];
      delete process.env['OH_SESSION_API_KEYS_0'];
    });
    const { api } = await startTestServer(t);
    const id = await api.create();
    await api.send(id, 'env');
    await api.waitForStatus(id, 'finished');
    const [reply] = await api.replies(id);
    assert.match(reply?.text ?? '', /^PATH=/m);
    assert.doesNotMatch(reply?.text ?? '', /leak-me|SESSION_API_KEY|^OH_/m);
  });
});

describe('process cleanup', () => {
  test('DELETE kills the running command, frees the conversation, keeps the workspace', async (t) => {
    const { api, workspaceDir } = await startTestServer(t);
    const id = await api.create();
    await api.send(id, 'sleep 30 & echo $! > sleep.pid; wait');
    const pid = await readPid(join(workspaceDir, id, 'sleep.pid'));
    assert.ok(processAlive(pid));
    assert.deepEqual((await api.call('DELETE', `/api/conversations/${id}`)).body, { success: true });
    assert.equal(processAlive(pid), false, 'sleep is gone when DELETE answers');
    assert.equal((await api.call('GET', `/api/conversations/${id}`)).status, 404);
    assert.equal((await api.call('DELETE', `/api/conversations/${id}`)).status, 404);
    assert.ok(existsSync(join(workspaceDir, id, 'sleep.pid')), 'workspace preserved');
  });

  test('a background child does not hold the command open, and dies with the conversation', async (t) => {
    const { api, workspaceDir } = await startTestServer(t);
    const id = await api.create();
    const started = Date.now();
    await api.send(id, 'sleep 30 & echo $! > bg.pid; echo started');
    await api.waitForStatus(id, 'finished');
    assert.ok(Date.now() - started < 3000, 'finished without waiting for the background sleep');
    assert.deepEqual((await api.replies(id)).map((r) => r.text), ['started\n']);
    const pid = await readPid(join(workspaceDir, id, 'bg.pid'));
    assert.ok(processAlive(pid), 'background processes outlive their command, as in a terminal');
    await api.call('DELETE', `/api/conversations/${id}`);
    assert.equal(processAlive(pid), false, 'the orphan was found by its tag and killed');
  });

  test('the time limit kills the whole command tree', async (t) => {
    const { api, workspaceDir } = await startTestServer(t, { commandTimeoutMs: 700 });
    const id = await api.create();
    const started = Date.now();
    // `env -i` drops the process tag: that child is found only as a descendant of the shell.
    await api.send(id, "env -i sleep 60 & echo $! > bg.pid; sh -c 'echo $$ > fg.pid; exec sleep 60'; wait");
    const pids = [await readPid(join(workspaceDir, id, 'bg.pid')), await readPid(join(workspaceDir, id, 'fg.pid'))];
    await api.waitForStatus(id, 'finished');
    assert.ok(Date.now() - started < 5000);
    const [reply] = await api.replies(id);
    assert.equal(reply?.timed_out, true);
    assert.equal(reply?.exit_code, -1);
    assert.match(reply?.text ?? '', /timed out after 700 ms/);
    for (const pid of pids) assert.equal(processAlive(pid), false, `pid ${pid} killed`);
  });

  test('output beyond the cap is dropped with a marker', async (t) => {
    const { api } = await startTestServer(t, { outputCapBytes: 1000 });
    const id = await api.create();
    await api.send(id, "head -c 5000 /dev/zero | tr '\\0' a; echo tail >&2");
    await api.waitForStatus(id, 'finished');
    const [reply] = await api.replies(id);
    assert.equal(reply?.truncated, true);
    assert.equal(reply?.text, `${'a'.repeat(1000)}\n[output truncated: 4005 bytes dropped]`);
  });
});

describe('signalCommands', () => {
  for (const mode of ['own', 'inherit'] as const) {
    test(`SIGSTOP freezes a command and SIGCONT resumes it ('${mode}' process group)`, async (t) => {
      // Limits and waits are seconds apart, so scheduler delays on a busy machine cannot decide the outcome.
      const { server, api, workspaceDir } = await startTestServer(t, { commandProcessGroup: mode, commandTimeoutMs: 3000 });
      const id = await api.create();
      await api.send(id, 'while true; do echo x >> tick.log; sleep 0.05; done');
      const file = join(workspaceDir, id, 'tick.log');
      const size = (): number => (existsSync(file) ? statSync(file).size : 0);
      await waitFor(() => size() > 10, 5000, 'ticks');
      server.signalCommands('SIGSTOP');
      await sleep(150);
      const frozen = size();
      await sleep(3500); // longer than the time limit: the limit is held while frozen
      assert.equal(size(), frozen, 'no output while stopped');
      server.signalCommands('SIGCONT');
      await waitFor(() => size() > frozen + 10, 10_000, 'ticks after SIGCONT');
      assert.equal(await api.status(id), 'running', 'not timed out while frozen');
      await api.waitForStatus(id, 'finished', 15_000);
      assert.equal((await api.replies(id))[0]?.timed_out, true, 'the limit still applies to running time');
    });
  }

  test('a command started while frozen starts stopped, and runs on SIGCONT', async (t) => {
    // A started-stopped shell has a socket for stdin, which makes bash read ~/.bashrc unless
    // told not to: this one would outlast the time limit, as a slow `pyenv init` did on a busy machine.
    const home = await mkdtemp(join(tmpdir(), 'sandbox-home-'));
    await writeFile(join(home, '.bashrc'), 'sleep 100\n');
    const savedHome = process.env['HOME'];
    process.env['HOME'] = home;
    t.after(async () => {
      if (savedHome === undefined) delete process.env['HOME'];
      else process.env['HOME'] = savedHome;
      await rm(home, { recursive: true, force: true });
    });
    const { server, api, workspaceDir } = await startTestServer(t, { commandProcessGroup: 'own', commandTimeoutMs: 3000 });
    const id = await api.create();
    server.signalCommands('SIGSTOP');
    await api.send(id, 'echo ran > ran.txt');
    await sleep(3500); // longer than the time limit
    assert.equal(existsSync(join(workspaceDir, id, 'ran.txt')), false, 'nothing ran while frozen');
    assert.equal(await api.status(id), 'running');
    server.signalCommands('SIGCONT');
    await api.waitForStatus(id, 'finished');
    assert.equal(await readFile(join(workspaceDir, id, 'ran.txt'), 'utf8'), 'ran\n');
    assert.equal((await api.replies(id))[0]?.timed_out, false);
  });
});
