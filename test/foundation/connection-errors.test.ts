// Every program a user starts says, when Temporal or the Runtime API does not answer,
// which address it tried, what it expected there and which variable to set — not the
// native client's `tonic::transport::Error(…)` or the SDK's "Failed to connect before
// the deadline". Each program runs as its own process, as a user starts it, against a
// closed port (a free one: nothing listens there).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { freePort } from '../../src/temporal/dev-server.js';
import { projectRoot } from '../../src/temporal/server.js';
import { runCli } from '../support/cli-process.js';

async function runScript(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += String(chunk)));
  child.stderr.on('data', (chunk: Buffer) => (output += String(chunk)));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, output };
}

function assertNamesTemporal(output: string, address: string): void {
  assert.match(output, new RegExp(`cannot reach Temporal at ${address.replace(/\./g, '\\.')}`), output);
  assert.match(output, /ECONNREFUSED/, output);
  assert.match(output, /expected a Temporal frontend \(gRPC\) there/, output);
  assert.match(output, /set TEMPORAL_ADDRESS to its host:port/, output);
  assert.doesNotMatch(output, /tonic::|Failed to connect before the deadline/, output);
}

describe('connection errors name the address, what is expected there and the variable to set', () => {
  test('npm run worker, npm start and the CLI, with TEMPORAL_ADDRESS at a closed port', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    // A Runtime API that is configured (so npm start starts none of its own) but never reached.
    const env = { ...process.env, TEMPORAL_ADDRESS: address, RUNTIME_API_URL: `http://127.0.0.1:${await freePort()}`, RUNTIME_API_KEY: 'unused', DEMO: 'off' };

    const worker = await runScript('src/worker.ts', env);
    assert.equal(worker.code, 1, worker.output);
    assertNamesTemporal(worker.output, address);
    assert.match(worker.output, /to connect the worker/);

    const main = await runScript('src/main.ts', env);
    assert.equal(main.code, 1, main.output);
    assertNamesTemporal(main.output, address);

    const cli = await runCli(['info', 'anything'], env);
    assert.equal(cli.code, 1, cli.stdout);
    assertNamesTemporal(cli.stderr, address);
  });
});
