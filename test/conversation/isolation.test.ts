// Agent code attacks its sandbox, through ordinary user messages, for both agents (the shell
// agent runs each message as a command; the real OpenHands agent runs `run: <command>` in its
// terminal). Every read outside its own workspace must fail: the Runtime API key, another
// conversation's workspace, the worker's and another sandbox's /proc/*/environ, the project,
// the machine's hostname; every write outside it too. Its own commands still work.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { projectRoot } from '../../src/temporal/server.js';
import { AGENT_VARIANTS, startAgentStack } from '../support/agents.js';
import type { AgentStack } from '../support/agents.js';
import { agentReplies, waitForInfo } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';

/** The real server's cold start takes 20-40 s on a busy machine; each turn a few more. */
const TURN_WAIT_MS = 180_000;

for (const { name, make } of AGENT_VARIANTS) {
  describe(`an isolated sandbox reads and writes nothing but its own workspace (${name} agent)`, () => {
    let setup: AgentStack;
    // In the worker's environment (this process runs the worker): no sandbox may read it.
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    const secretOfA = `secret-of-a-${randomBytes(8).toString('hex')}`;
    const mark = randomBytes(4).toString('hex');
    let count = 0;

    before(async () => {
      process.env.DC_ISOLATION_CANARY = canary;
      setup = await startAgentStack(await make());
      // Where `npm start` keeps it: beside the runtimes' folders.
      await writeFile(path.join(setup.stack.dataDir, 'runtime-api.key'), setup.stack.runtimeApiKey);
    });
    after(async () => {
      delete process.env.DC_ISOLATION_CANARY;
      await setup?.close();
    });

    /** Runs `command` in the conversation through a user message; the agent's reply. */
    const run = async (id: string, command: string): Promise<string> => {
      const { conversations } = setup.stack;
      const text = setup.variant.ask(command);
      count += 1;
      const info = await conversations.info(id).catch(() => undefined);
      if (!info) await conversations.start({ conversationId: id, userId: 'mallory', message: { text, messageId: `m${count}` } });
      else await conversations.send(id, { text, messageId: `m${count}` });
      await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === `m${count}` && i.queued === 0, TURN_WAIT_MS);
      return (await agentReplies(conversations, id)).at(-1) ?? '';
    };

    test('the Runtime API key, another workspace, other processes, the project, the host: all out of reach', async () => {
      const a = uniqueId('victim');
      const b = uniqueId('attacker');
      const folderOfA = (await run(a, `echo ${secretOfA} > secret-a.txt && echo "[$(pwd)]"`)).match(/\[(\/[^\]]*)\]/)?.[1];
      assert.ok(folderOfA, 'conversation A told its folder');
      await access(path.join(folderOfA, 'secret-a.txt')); // A's own write landed where A works
      const own = await run(b, `echo own-work > mine.txt && cat mine.txt && echo "[$(pwd)]"`);
      assert.ok(own.includes('own-work'), `B's own commands work: ${own}`);

      const { runtimes } = (await (await fetch(`${setup.stack.server.url}/list`, { headers: { 'x-api-key': setup.stack.runtimeApiKey } })).json()) as {
        runtimes: Array<{ session_api_key: string; session_id: string }>;
      };
      const keyOfA = runtimes.find((r) => r.session_id === a)?.session_api_key; // a runtime's session is its conversation
      assert.ok(keyOfA, 'A has a runtime');

      const attempts: Array<[what: string, command: string, secrets: string[]]> = [
        ['another conversation\'s workspace', `cat ${folderOfA}/secret-a.txt; ls -R ${path.dirname(folderOfA)} | head`, [secretOfA]],
        ['the Runtime API key', `cat ${setup.stack.dataDir}/runtime-api.key ../../runtime-api.key ../../../runtime-api.key ../../../../runtime-api.key`, [setup.stack.runtimeApiKey]],
        ['the worker\'s environment', `cat /proc/${process.pid}/environ; cat /proc/*/environ | tr '\\0' '\\n' | grep -a DC_ISOLATION`, [canary]],
        ['another sandbox\'s environment', `cat /proc/*/environ | tr '\\0' '\\n' | grep -a -i session`, [keyOfA]],
        ['the project', `cat ${projectRoot}/package.json; ls ${projectRoot}/src`, ['"name": "durable-conversations"', 'workflows']],
      ];
      for (const [what, command, secrets] of attempts) {
        // The marker shows the command ran to its end, so a missing secret means a failed read.
        const reply = await run(b, `${command}; echo probe-ran`);
        assert.ok(reply.includes('probe-ran'), `${what}: the probe ran: ${reply}`);
        for (const secret of secrets) assert.ok(!reply.includes(secret), `${what} was read: ${reply}`);
      }

      const host = await run(b, 'echo "[$(cat /etc/hostname)] [$(hostname)] [$(ls /proc | grep -c "^[0-9]")]"');
      const [, etcHostname, uname, processes] = /\[([^\]]*)\] \[([^\]]*)\] \[(\d+)\]/.exec(host) ?? [];
      assert.deepEqual([etcHostname, uname], ['sandbox', 'sandbox'], `its own hostname, not ${hostname()}: ${host}`);
      // Its agent, the agent's helpers, this command: a handful, never the machine's hundreds.
      assert.ok(Number(processes) < 30, `/proc shows only its own processes: ${processes}`);
    });

    test('writing outside its workspace fails, and leaves nothing', async () => {
      const id = uniqueId('writer');
      const targets = [path.join(setup.stack.dataDir, `pwned-${mark}`), path.join(projectRoot, `pwned-${mark}`), `/etc/pwned-${mark}`, `/usr/pwned-${mark}`];
      const reply = await run(id, targets.map((file) => `echo x > ${file}`).join('; ') + '; echo done');
      assert.ok(reply.includes('done'), reply);
      for (const file of targets) await assert.rejects(access(file), `${file} was written`);
    });

    test('pause, a message that resumes it, and close still work inside the walls', async () => {
      const { conversations } = setup.stack;
      const id = uniqueId('walls');
      assert.ok(setup.variant.answers(await run(id, 'echo before'), 'before'));
      await conversations.pause(id);
      await waitForInfo(conversations, id, (i) => i.status === 'STOPPED', TURN_WAIT_MS);
      assert.ok(setup.variant.answers(await run(id, 'cat mine.txt 2>/dev/null; echo after'), 'after'), 'resumed and answered');
      await conversations.close(id);
      await waitForInfo(conversations, id, (i) => i.status === 'ARCHIVED', TURN_WAIT_MS);
    });
  });
}
