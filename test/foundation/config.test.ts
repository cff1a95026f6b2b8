import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, DEFAULT_WORKER_CACHE_SIZE, configSchema, deploymentPolicyFrom, describeConfig, loadConfig } from '../../src/config.js';
import { resolvePolicy } from '../../src/workflows/policy.js';
import { parseDuration } from '../../src/durations.js';

describe('configuration', () => {
  test('defaults give the embedded setup with the documented timeouts', () => {
    const config = loadConfig({});
    assert.equal(config.TEMPORAL_ADDRESS, undefined);
    assert.equal(config.RUNTIME_API_URL, undefined);
    assert.equal(config.TEMPORAL_UI_PORT, 8233);
    assert.equal(config.RUNTIME_INIT_TIMEOUT, 180_000);
    assert.equal(config.AGENT_SERVER_TIMEOUT, 600_000);
    assert.equal(config.CONVERSATION_IDLE_DELAY, 20 * 60_000);
    assert.equal(config.CONVERSATION_RETENTION, 7 * 86_400_000);
    assert.equal(config.MESSAGE_MAX_BYTES, 256 * 1024);
    assert.equal(config.WORKER_CACHE_SIZE, DEFAULT_WORKER_CACHE_SIZE);
  });

  test("the workers' policy and what a client may override of it (CONVERSATION_POLICY_OVERRIDES)", () => {
    const deployment = deploymentPolicyFrom(loadConfig({ CONVERSATION_IDLE_DELAY: '10s', CONVERSATION_CLOSE_POLICY: 'pause', MESSAGE_MAX_BYTES: '2048' }));
    assert.deepEqual(deployment.overridable, ['idleDelay'], 'only the idle delay by default');
    assert.equal(deployment.defaults.idleDelayMs, 10_000);
    assert.equal(deployment.defaults.closePolicy, 'pause');
    assert.equal(deployment.defaults.maxMessageBytes, 2_048);
    assert.equal(deployment.defaults.maxRecoveries, 3, 'what no variable sets keeps its default');
    assert.deepEqual(loadConfig({ CONVERSATION_POLICY_OVERRIDES: 'none' }).CONVERSATION_POLICY_OVERRIDES, []);
    assert.deepEqual(loadConfig({ CONVERSATION_POLICY_OVERRIDES: ' retention , closePolicy' }).CONVERSATION_POLICY_OVERRIDES, ['retention', 'closePolicy']);
    assert.throws(() => loadConfig({ CONVERSATION_POLICY_OVERRIDES: 'idleDelay,maxRecoveries' }), /CONVERSATION_POLICY_OVERRIDES/);

    const allowed = resolvePolicy(deployment, { idleDelayMs: 60_000 });
    assert.deepEqual([allowed.policy.idleDelayMs, allowed.policy.closePolicy, allowed.refused], [60_000, 'pause', []]);
    const refused = resolvePolicy(deployment, { idleDelayMs: 60_000, retentionMs: 1_000, maxMessageBytes: 10 });
    assert.deepEqual(refused.refused, ['retention', 'maxMessageBytes']);
    assert.equal(refused.policy, deployment.defaults, 'a refused start gets nothing of what it asked');
    assert.match(refused.refusal ?? '', /retentionMs \(CONVERSATION_RETENTION\), maxMessageBytes \(MESSAGE_MAX_BYTES\) per conversation: it may set only idleDelayMs/);
  });

  test('the sticky cache size is a whole number of workflows, 0 turning the cache off', () => {
    assert.equal(loadConfig({ WORKER_CACHE_SIZE: '250' }).WORKER_CACHE_SIZE, 250);
    assert.equal(loadConfig({ WORKER_CACHE_SIZE: '0' }).WORKER_CACHE_SIZE, 0);
    for (const bad of ['-1', '1.5', 'lots']) assert.throws(() => loadConfig({ WORKER_CACHE_SIZE: bad }), /WORKER_CACHE_SIZE=.*accepted: .*default 500/);
  });

  test('an empty variable counts as unset', () => {
    assert.equal(loadConfig({ TEMPORAL_ADDRESS: '  ' }).TEMPORAL_ADDRESS, undefined);
  });

  test('every bad value is reported with its variable, the problem and the accepted form', () => {
    let error: unknown;
    try {
      loadConfig({ TEMPORAL_PORT: 'seventy', CONVERSATION_IDLE_DELAY: '5 minutes', TEMPORAL_ADDRESS: 'nohost', RUNTIME_DRIVER: 'docker' });
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 4);
    const byName = (name: string) => error.problems.find((p) => p.startsWith(`${name}=`)) ?? '';
    assert.match(byName('TEMPORAL_PORT'), /"seventy".*accepted: .*0-65535/);
    assert.match(byName('CONVERSATION_IDLE_DELAY'), /"5 minutes" is not a duration; accepted: .*ms, s, m, h or d/);
    assert.match(byName('TEMPORAL_ADDRESS'), /expected host:port/);
    assert.match(byName('RUNTIME_DRIVER'), /process \| inproc/);
  });

  test('sandboxes are isolated unless RUNTIME_ISOLATION=off says otherwise; the inproc driver needs it said', () => {
    assert.deepEqual([loadConfig({}).RUNTIME_ISOLATION, loadConfig({}).RUNTIME_NETWORK], ['namespaces', 'host']);
    assert.throws(() => loadConfig({ RUNTIME_DRIVER: 'inproc' }), /RUNTIME_DRIVER="inproc".*set RUNTIME_ISOLATION=off/);
    assert.equal(loadConfig({ RUNTIME_DRIVER: 'inproc', RUNTIME_ISOLATION: 'off' }).RUNTIME_DRIVER, 'inproc');
    assert.throws(() => loadConfig({ RUNTIME_NETWORK: 'bridge' }), /RUNTIME_NETWORK="bridge".*host .* none/);
  });

  test('every variable is described', () => {
    const described = describeConfig();
    assert.equal(described.length, Object.keys(configSchema.shape).length);
    for (const { name, description } of described) assert.ok(description.length > 10, `${name} has no description`);
  });

  test('the README documents every variable', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    for (const { name } of describeConfig()) assert.ok(readme.includes(`| \`${name}\` |`), `README lacks ${name}`);
  });

  test('durations are parsed from text into milliseconds', () => {
    assert.equal(parseDuration('150ms'), 150);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('7 days'), undefined);
  });
});

describe('package-lock.json', () => {
  test('records every optional platform package, so `npm ci` accepts it on any machine', async () => {
    const { readFile } = await import('node:fs/promises');
    const lock = JSON.parse(await readFile(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
      packages: Record<string, { optionalDependencies?: Record<string, string> }>;
    };
    const missing = Object.entries(lock.packages).flatMap(([key, entry]) =>
      Object.keys(entry.optionalDependencies ?? {}).filter((name) => !lock.packages[`node_modules/${name}`] && !lock.packages[`${key}/node_modules/${name}`]),
    );
    assert.deepEqual(missing, [], 'run `node scripts/complete-lockfile.mjs`');
  });
});
