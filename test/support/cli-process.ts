// Runs the CLI (src/cli.ts) as its own process, the way a user does, and collects what it printed.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { projectRoot } from '../../src/temporal/server.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run cli -- …args` with `env` as its whole environment. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += String(chunk)));
  child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stdout, stderr };
}

/** What a stack's CLI user has set: this environment, pointed at the stack's task queue, Runtime API and data folder. */
export function stackCliEnv(
  stack: { readonly temporal: { readonly taskQueue: string }; readonly server: { readonly url: string }; readonly runtimeApiKey: string; readonly dataDir: string },
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return { ...process.env, TEMPORAL_TASK_QUEUE: stack.temporal.taskQueue, RUNTIME_API_URL: stack.server.url, RUNTIME_API_KEY: stack.runtimeApiKey, DATA_DIR: stack.dataDir, ...extra };
}
