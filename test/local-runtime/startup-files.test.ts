// A sandbox's bash wrapper reads no startup files. Its stdin is a pipe (a socket to bash),
// which makes bash read ~/.bashrc as if started by rshd; a user's .bashrc that hangs (seen
// here: `pyenv rehash` waiting on a stale lock) then kept every runtime from starting.
// Figure checked: a runtime is ready although its HOME's .bashrc and BASH_ENV sleep 600 s.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startRuntime, startTestServer, waitReady } from './support.js';

test('a .bashrc, .bash_profile or BASH_ENV that hangs does not delay a sandbox', async (t) => {
  const home = await mkdtemp(path.join(tmpdir(), 'dc-home-'));
  const hang = path.join(home, 'hang.sh');
  for (const file of ['.bashrc', '.bash_profile', '.profile', 'hang.sh']) await writeFile(path.join(home, file), 'sleep 600\n');
  const saved = { HOME: process.env.HOME, BASH_ENV: process.env.BASH_ENV };
  // The driver passes HOME on to sandboxes; BASH_ENV it must drop.
  process.env.HOME = home;
  process.env.BASH_ENV = hang;
  t.after(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await rm(home, { recursive: true, force: true });
  });
  const server = await startTestServer(t);
  const started = await startRuntime(server, 'startup-files');
  // Normally under a second; a startup file read would hold it for 600 s.
  await waitReady(server, started.runtime_id, 60_000);
  assert.ok(server.sandboxPid(started.runtime_id), 'the sandbox runs');
});
