// docker-compose.yml validates with the compose tools a user may have — Debian's
// docker-compose 1.29.2 (the v1 available here) and Compose v2 where installed — and
// holds what the deployment needs: the Temporal server and UI versions `npm start` and
// `npm test` run, a setup that fails loudly, no host source mounted, health checks and
// restart policies. The images are not pulled or run here (no Docker daemon in CI).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { projectRoot, toolsDir } from '../../src/temporal/server.js';
import { TEMPORAL_CLI, projectInstallPath } from '../../src/temporal/tool-resolver.js';

const run = promisify(execFile);
const COMPOSE_FILE = path.join(projectRoot, 'docker-compose.yml');
const REQUIRED = { RUNTIME_API_KEY: 'k', CODEC_SERVER_TOKEN: 't', ENCRYPTION_KEYS: 'k1:AAAA' };

/** The compose command line, or undefined with the reason it is missing. */
async function composeTool(argv: readonly string[]): Promise<{ command: string; args: string[] } | { missing: string }> {
  const [command, ...args] = argv as [string, ...string[]];
  try {
    await run(command, [...args, 'version'], { timeout: 30_000 });
    return { command, args };
  } catch (error) {
    return { missing: `${argv.join(' ')} is not available (${(error as Error).message.split('\n')[0]})` };
  }
}

async function validate(tool: { command: string; args: string[] }, env: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(tool.command, [...tool.args, '-f', COMPOSE_FILE, 'config', '-q'], { env: { PATH: process.env.PATH, ...env }, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('docker-compose.yml', () => {
  for (const argv of [['docker-compose'], ['docker', 'compose']]) {
    test(`\`${argv.join(' ')} config\` accepts it with the required variables and names each one missing`, async (t) => {
      const tool = await composeTool(argv);
      if ('missing' in tool) {
        // Said, not silent: Debian's package is `apt-get install -y docker-compose`; v2 is Docker's compose plugin.
        t.skip(`${tool.missing}; install it to run this check`);
        return;
      }
      const valid = await validate(tool, REQUIRED);
      assert.equal(valid.code, 0, valid.output);
      for (const name of Object.keys(REQUIRED)) {
        const without = await validate(tool, { ...REQUIRED, [name]: '' });
        assert.notEqual(without.code, 0, `valid without ${name}`);
        assert.match(without.output, new RegExp(`set ${name}`));
      }
    });
  }

  test('pins the Temporal server and UI that npm start and npm test run', async () => {
    const { stdout } = await run(projectInstallPath(TEMPORAL_CLI, toolsDir(projectRoot)), ['--version']);
    const [, server, ui] = /Server ([\d.]+), UI ([\d.]+)/.exec(stdout) ?? [];
    assert.ok(server && ui, stdout);
    const compose = await readFile(COMPOSE_FILE, 'utf8');
    const images = [...compose.matchAll(/image: (temporalio\/[\w-]+):(\S+)/g)].map(([, name, tag]) => `${name}:${tag}`);
    assert.deepEqual([...new Set(images)].sort(), [`temporalio/admin-tools:${server}`, `temporalio/server:${server}`, `temporalio/ui:${ui}`]);
  });

  test('a setup that fails loudly, no host folder mounted, health checks and restart policies', async () => {
    const compose = await readFile(COMPOSE_FILE, 'utf8');
    assert.doesNotMatch(compose, /\|\|\s*true/, 'no failure is swallowed');
    assert.doesNotMatch(compose, /^\s*-\s*\.{1,2}\//m, 'no bind mount of the checkout');
    assert.doesNotMatch(compose, /^name:/m, 'a top-level name is refused by docker-compose 1.29.2');
    const services = servicesOf(compose);
    for (const name of ['postgresql', 'temporal', 'temporal-ui', 'codec-server', 'runtime-api', 'worker']) {
      assert.match(services.get(name) ?? '', /restart: unless-stopped/, `${name} restarts`);
    }
    for (const name of ['postgresql', 'temporal', 'runtime-api']) assert.match(services.get(name) ?? '', /healthcheck:/, `${name} has a health check`);
    for (const name of ['temporal-schema', 'temporal-setup']) assert.match(services.get(name) ?? '', /set -eu/, `${name} stops at the first failure`);
    assert.match(services.get('worker') ?? '', /temporal-setup:\s*\n\s*condition: service_completed_successfully/, 'workers wait for the setup to succeed');
    assert.match(services.get('runtime-api') ?? '', /"127\.0\.0\.1:8000:8000"/, 'the Runtime API is published to the host');
  });
});

/** Each service's block of the file, by name (two-space indented keys under `services:`). */
function servicesOf(compose: string): Map<string, string> {
  const body = compose.slice(compose.indexOf('\nservices:\n'), compose.indexOf('\nvolumes:\n'));
  const services = new Map<string, string>();
  for (const block of body.split(/\n(?= {2}[a-z][\w-]*:\n)/)) {
    const name = /^ {2}([a-z][\w-]*):\n/.exec(block)?.[1];
    if (name) services.set(name, block);
  }
  return services;
}
