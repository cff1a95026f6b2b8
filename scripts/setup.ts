// `npm run setup`: installs, once, the tools the project runs besides Node packages — the
// pinned Temporal CLI (pip --target into .tools/), bubblewrap for sandbox isolation and a
// headless Chromium for the test that looks at the Temporal UI (Debian's packages, with
// apt-get when root), and the pinned OpenHands agent server (a virtual environment in
// .tools/, built with a Python ≥ 3.12 found on the machine). `npm start` and `npm test`
// install them too when missing; running this first just moves the minutes of a first
// install out of them (CI does so).
import { PROJECT_TOOLS_DIR, resolveAgentServer } from '../src/tools/agent-server.js';
import { resolveBubblewrap } from '../src/tools/bubblewrap.js';
import { resolveChromium } from '../src/tools/chromium.js';
import { resolveDockerCompose } from '../src/tools/docker-compose.js';
import { TEMPORAL_CLI, TEMPORAL_TEST_SERVER, resolveTool } from '../src/temporal/tool-resolver.js';

const log = (message: string) => console.log(`[setup] ${message}`);

async function main(): Promise<void> {
  for (const tool of [TEMPORAL_CLI, TEMPORAL_TEST_SERVER]) {
    const started = Date.now();
    const found = await resolveTool(tool, { toolsDir: PROJECT_TOOLS_DIR, explicitPath: process.env[tool.pathVariable], allowSdkDownload: false, log });
    log(`${tool.executable}: ${found.source === 'sdk-download' ? 'SDK download' : found.path} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  let started = Date.now();
  const bwrap = await resolveBubblewrap({ explicitPath: process.env.RUNTIME_BWRAP_PATH, log });
  log(`bubblewrap (sandbox isolation): ${bwrap} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  started = Date.now();
  const server = await resolveAgentServer({ explicitPath: process.env.OPENHANDS_AGENT_SERVER_PATH, toolsDir: PROJECT_TOOLS_DIR, log });
  log(`openhands-agent-server ${server.version} (${server.source}): ${server.command} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const browserStarted = Date.now();
  const chromium = await resolveChromium({ explicitPath: process.env.CHROMIUM_PATH, log });
  log(`chromium: ${chromium} (${((Date.now() - browserStarted) / 1000).toFixed(1)} s)`);
  const compose = await resolveDockerCompose(log);
  log('path' in compose ? `docker-compose (validates docker-compose.yml in the tests): ${compose.path}` : `no docker-compose: ${compose.missing}`);
}

main().catch((error: unknown) => {
  console.error(`[setup] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
