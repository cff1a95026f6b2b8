// Runs the real worker entry (`src/worker.ts`, what `npm run worker` runs) as a child
// process, so a test can SIGKILL it the way a crashed machine would and start another.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { projectRoot } from '../../src/temporal/server.js';

export interface WorkerProcess {
  readonly process: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** `env`: more configuration for the worker, e.g. the agent's LLM (LLM_MODEL, LLM_BASE_URL, …). */
export async function spawnWorker(settings: { taskQueue: string; runtimeApiUrl: string; runtimeApiKey: string; env?: Record<string, string> }): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      TEMPORAL_TASK_QUEUE: settings.taskQueue,
      RUNTIME_API_URL: settings.runtimeApiUrl,
      RUNTIME_API_KEY: settings.runtimeApiKey,
      WORKFLOW_BUNDLE_PATH: process.env.TEST_WORKFLOW_BUNDLE ?? '',
      LOG_LEVEL: 'error',
      ...settings.env,
    },
  });
  let output = '';
  const collect = (chunk: Buffer) => (output += chunk.toString());
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 60_000);
    child.stdout.on('data', () => {
      if (output.includes('worker polling')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}:\n${output}`));
    });
  });
  const exited = once(child, 'exit');
  return {
    process: child,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
