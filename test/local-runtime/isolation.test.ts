// Where sandboxes cannot be isolated, the Runtime API server says so at start, with the
// reason and the way out; without isolation (explicitly), it warns at every start. What an
// isolated sandbox can and cannot reach is tested from inside, through user messages, in
// test/conversation/isolation.test.ts.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createRuntimeApiServer } from '../../src/local-runtime/server.js';
import { ToolNotFoundError } from '../../src/temporal/tool-resolver.js';
import { resolveBubblewrap } from '../../src/tools/bubblewrap.js';
import { startRuntime, startTestServer, waitReady } from './support.js';

describe('when sandboxes cannot be isolated', () => {
  test('no bubblewrap: the server does not start, and says why and what to do', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'no-isolation-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const start = createRuntimeApiServer({ apiKey: 'k', dataDir, isolation: { bubblewrap: join(dataDir, 'no-such-bwrap') }, log: () => {} });
    await assert.rejects(start, (error: Error) => {
      assert.equal(error.name, 'IsolationUnavailableError');
      assert.match(error.message, /sandbox isolation is not available on this machine/);
      assert.match(error.message, /RUNTIME_ISOLATION=off/);
      return true;
    });
  });

  test('a bubblewrap that cannot make namespaces (as in a container without user namespaces): bubblewrap\'s own reason', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'no-isolation-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const fake = join(dataDir, 'bwrap');
    await writeFile(fake, '#!/bin/sh\necho "bwrap: No permissions to create new namespace" >&2\nexit 1\n');
    await chmod(fake, 0o755);
    await assert.rejects(createRuntimeApiServer({ apiKey: 'k', dataDir, isolation: { bubblewrap: fake }, log: () => {} }), /No permissions to create new namespace[\s\S]*RUNTIME_ISOLATION=off/);
  });

  test('bubblewrap nowhere and nothing to install it with: every place tried is named', async () => {
    await assert.rejects(resolveBubblewrap({ searchPath: '/nonexistent', install: false }), (error: Error) => {
      assert.ok(error instanceof ToolNotFoundError);
      assert.match(error.message, /PATH: no executable named bwrap/);
      assert.match(error.message, /npm run setup/);
      return true;
    });
  });

  test('RUNTIME_ISOLATION=off runs sandboxes, warning at the server\'s start and at every sandbox\'s', async (t) => {
    const server = await startTestServer(t, { isolation: { mode: 'off' } });
    const warnings = () => server.logs.filter((line) => line.includes('WARNING') && line.includes('WITHOUT isolation')).length;
    assert.equal(warnings(), 1, 'at the start of the server');
    for (const session of ['plain-1', 'plain-2']) await waitReady(server, (await startRuntime(server, session)).runtime_id);
    assert.equal(warnings(), 3, 'and at the start of each sandbox');
  });
});
