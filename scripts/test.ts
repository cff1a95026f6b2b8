// `npm test`: starts a private Temporal dev server on a free port (found through the
// same resolution as `npm start`, so nothing needs installing by hand), bundles the
// workflows once for every test file, then runs node's test runner over test/**.
// Pass file paths to run only those: `npm test -- test/foundation/config.test.ts`.
// The OpenHands agent server is found (or the first time installed, a few minutes) here too,
// before any test file runs, and its path handed on in OPENHANDS_AGENT_SERVER_PATH: test
// files never install anything.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfigOrExit } from '../src/config.js';
import { freePort } from '../src/temporal/dev-server.js';
import { ensureTemporalServer, projectRoot } from '../src/temporal/server.js';
import { PROJECT_TOOLS_DIR, resolveAgentServer } from '../src/tools/agent-server.js';
import { resolveBubblewrap } from '../src/tools/bubblewrap.js';
import { resolveChromium } from '../src/tools/chromium.js';
import { resolveDockerCompose } from '../src/tools/docker-compose.js';
import { workflowsPath } from '../src/worker.js';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../src/observability/tracing.js';
import { FAILURE_CONVERTER_PATH } from '../src/codec/data-converter.js';
import { TEST_KEY_FILE } from '../test/support/codec.js';

async function findTests(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => path.relative(projectRoot, path.join(e.parentPath, e.name)))
    .sort();
}

const FILE_TIMEOUT_MS = 900_000;
/**
 * Test files run two at a time (TEST_CONCURRENCY to change): most of a file's time is spent
 * waiting (for an agent server to start, a turn to end, a timer to fire), so two share a
 * 2-core machine well, and the suite fits its 15 minutes.
 */
const CONCURRENCY = Number(process.env.TEST_CONCURRENCY ?? 2);

async function main(): Promise<number> {
  const started = Date.now();
  // Tests always get their own server, even when TEMPORAL_ADDRESS points elsewhere.
  const config = loadConfigOrExit({ ...process.env, TEMPORAL_ADDRESS: undefined });
  const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : await findTests(path.join(projectRoot, 'test'));
  const agentServerPath = await ensureAgentServer(config.OPENHANDS_AGENT_SERVER_PATH);
  // Sandboxes are isolated by default: bubblewrap is installed here (as root) if missing.
  const bwrap = await resolveBubblewrap({ explicitPath: config.RUNTIME_BWRAP_PATH, log: (m) => console.log(`[test] ${m}`) });
  const chromiumPath = await ensureChromium();
  // For the compose file's test; without it that test says it skipped and why.
  const compose = await resolveDockerCompose((m) => console.log(`[test] ${m}`));
  if ('missing' in compose) console.error(`[test] no docker-compose: ${compose.missing}`);
  const scratch = await mkdtemp(path.join(tmpdir(), 'dc-test-'));
  const server = await ensureTemporalServer(config, { ephemeral: true, port: await freePort(), log: (m) => console.log(`[test] ${m}`) });
  try {
    const bundle = await bundleWorkflowCode({
      workflowsPath,
      workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
      failureConverterPath: FAILURE_CONVERTER_PATH,
      logger: quietLogger,
    });
    const bundlePath = path.join(scratch, 'workflow-bundle.js');
    await writeFile(bundlePath, bundle.code);
    console.log(`[test] Temporal at ${server.address}; workflows bundled; ${files.length} test files (${Date.now() - started} ms)`);
    // The timeout guards against a hang, and node applies it to each test file as a whole: the
    // files that run the real agent server take ~4 min on an idle 2-core machine, and twice that
    // with both cores busy.
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-timeout=${FILE_TIMEOUT_MS}`, `--test-concurrency=${CONCURRENCY}`, ...files], {
      cwd: projectRoot,
      stdio: 'inherit',
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: server.namespace,
        TEST_WORKFLOW_BUNDLE: bundlePath,
        TEST_SCRATCH_DIR: scratch,
        // The test key: the CLI and worker processes tests spawn encrypt as the tests' own clients do.
        ENCRYPTION_KEYS_FILE: TEST_KEY_FILE,
        ENCRYPTION_KEYS: '',
        // `npm start` serves metrics on 9464 by default; tests that start it at once must not share that port.
        METRICS_ADDRESS: 'off',
        ...(agentServerPath ? { OPENHANDS_AGENT_SERVER_PATH: agentServerPath } : {}),
        // Found on PATH by the tests' servers; named for the few that need the path itself.
        RUNTIME_BWRAP_PATH: bwrap,
        ...(chromiumPath ? { CHROMIUM_PATH: chromiumPath } : {}),
      },
    });
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    console.log(`[test] finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return code ?? (signal ? 1 : 0);
  } finally {
    await server.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The agent server's path, or undefined when it cannot be had: then the tests that need it
 * fail, each with the list of what was tried, and every other test still runs.
 */
async function ensureAgentServer(explicitPath: string | undefined): Promise<string | undefined> {
  const started = Date.now();
  try {
    const server = await resolveAgentServer({ explicitPath, toolsDir: PROJECT_TOOLS_DIR, log: (m) => console.log(`[test] ${m}`) });
    console.log(`[test] openhands-agent-server ${server.version} (${server.source}) ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${server.command}`);
    return server.command;
  } catch (error) {
    console.error(`[test] no openhands-agent-server (${((Date.now() - started) / 1000).toFixed(1)} s): ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/** Chromium for the test that looks at the Temporal UI; undefined makes that test fail with the list of what was tried. */
async function ensureChromium(): Promise<string | undefined> {
  try {
    return await resolveChromium({ explicitPath: process.env.CHROMIUM_PATH, log: (m) => console.log(`[test] ${m}`) });
  } catch (error) {
    console.error(`[test] no chromium: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
