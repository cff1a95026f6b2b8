// The tether's bash wrapper reads no startup files: a user's ~/.bashrc, $BASH_ENV or $ENV
// that hangs cannot delay a tethered child (the Temporal server) from starting.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { spawnTethered } from '../../src/process/tether.js';

const HANG_SECONDS = 100;
/** Far below the hang and far above any start-up delay on a busy machine. */
const START_WITHIN_MS = 15_000;

test(`a child starts within ${START_WITHIN_MS / 1000} s although ~/.bashrc, BASH_ENV and ENV each sleep ${HANG_SECONDS} s`, async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'tether-home-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  const hang = `sleep ${HANG_SECONDS}\n`;
  await writeFile(join(home, '.bashrc'), hang);
  await writeFile(join(home, '.bash_profile'), hang);
  await writeFile(join(home, 'bash_env'), hang);
  // No SHLVL: bash then counts as a top-level shell, the case in which it sources ~/.bashrc for a socket stdin.
  const { SHLVL: _shlvl, ...inherited } = process.env;
  const env = { ...inherited, HOME: home, BASH_ENV: join(home, 'bash_env'), ENV: join(home, 'bash_env') };

  const started = Date.now();
  const child = spawnTethered('bash', ['-c', 'echo "started BASH_ENV=${BASH_ENV:-unset}"'], { env });
  t.after(() => child.stop(1000));
  const timer = setTimeout(() => void child.stop(0), START_WITHIN_MS);
  // The first output, or nothing if the wrapper had to be killed before the child ran.
  const line = await new Promise<string | undefined>((resolve) => {
    child.process.stdout.once('data', (chunk: Buffer) => resolve(String(chunk)));
    child.process.once('close', () => resolve(undefined));
  });
  clearTimeout(timer);
  const elapsed = Date.now() - started;

  assert.equal(line?.trim(), 'started BASH_ENV=unset', 'the child ran, without BASH_ENV');
  assert.ok(elapsed < START_WITHIN_MS, `started after ${elapsed} ms`);
  assert.equal(await child.exited, 0);
});
