// `npm start` as a child process (src/main.ts) on free ports and a private data folder,
// for tests that look at what a user of the embedded default sees, and the CLI beside it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnTethered } from '../../src/process/tether.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { projectRoot } from '../../src/temporal/server.js';
import { runCli } from './cli-process.js';

export interface MainProcess {
  readonly env: NodeJS.ProcessEnv;
  readonly uiUrl: string;
  readonly temporalAddress: string;
  readonly dataDir: string;
  /** What it printed so far (stdout and stderr). */
  output(): string;
  /** Runs `npm run cli -- <args>` against it; the parsed JSON on success. */
  cli(...args: string[]): Promise<{ code: number; out: unknown; stderr: string }>;
  stop(): Promise<void>;
}

/**
 * The environment of a user's `npm start` on `dataDir`: the embedded server, no key configured
 * (one is generated into the data folder), and every port free, so two at once never clash.
 */
export async function npmStartEnv(dataDir: string): Promise<NodeJS.ProcessEnv> {
  const ports = { TEMPORAL_PORT: await freePort(), TEMPORAL_UI_PORT: await freePort(), RUNTIME_API_PORT: await freePort(), CODEC_SERVER_PORT: await freePort(), METRICS_ADDRESS: await freePort() };
  return {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
    DATA_DIR: dataDir,
    DEMO: 'off',
    TEMPORAL_ADDRESS: '',
    ENCRYPTION_KEYS: '',
    ENCRYPTION_KEYS_FILE: '',
    RUNTIME_API_URL: '',
    RUNTIME_API_KEY: '',
  };
}

export async function startMainProcess(extraEnv: Record<string, string> = {}, startTimeoutMs = 240_000): Promise<MainProcess> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'dc-main-'));
  const env: NodeJS.ProcessEnv = { ...(await npmStartEnv(dataDir)), ...extraEnv };
  // Tethered: should this test process die (a runner timeout), `npm start` and all it started stop too.
  const tethered = spawnTethered(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: projectRoot, env });
  const child = tethered.process;
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    // It stops its worker, sandboxes and Temporal server in order; a minute is plenty even on a busy machine.
    await tethered.stop(60_000);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not serve within ${startTimeoutMs / 1000} s:\n${output}`)), startTimeoutMs);
      child.stdout.on('data', () => {
        if (output.includes('serving')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void tethered.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited with ${String(code)}:\n${output}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    env,
    dataDir,
    output: () => output,
    uiUrl: `http://localhost:${env.TEMPORAL_UI_PORT}`,
    temporalAddress: `127.0.0.1:${env.TEMPORAL_PORT}`,
    cli: async (...args) => {
      const { code, stdout, stderr } = await runCli(args, env);
      return { code, out: code === 0 ? JSON.parse(stdout) : undefined, stderr };
    },
    stop,
  };
}
