// A worker in a child process of its own, to be SIGKILLed the way a crashed machine dies:
// the project's createWorker with the real activities, as `npm run worker` runs it, but
// with worker options the benchmark varies (the sticky queue timeout). Run as a module
// it spawns; run as the child's entry it reads its settings from RECOVERY_WORKER.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NativeConnection } from '@temporalio/worker';
import { buildActivities } from '../../src/activities/wiring.js';
import { installTemporalRuntime } from '../../src/temporal/runtime.js';
import { createWorker } from '../../src/worker.js';
import { testDataConverter } from '../../test/support/codec.js';

export interface RecoveryWorkerSettings {
  readonly address: string;
  readonly taskQueue: string;
  readonly runtimeApiUrl: string;
  readonly runtimeApiKey: string;
  readonly bundlePath: string;
  /** Passed to createWorker; undefined = the project's default. */
  readonly stickyQueueScheduleToStartTimeout?: string;
}

export interface RecoveryWorker {
  readonly process: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const READY = 'recovery worker polling';

export async function spawnRecoveryWorker(settings: RecoveryWorkerSettings): Promise<RecoveryWorker> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RECOVERY_WORKER: JSON.stringify(settings) },
  });
  let output = '';
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 60_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(READY)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}:\n${output}`));
    });
  });
  return {
    process: child,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

async function runChild(settings: RecoveryWorkerSettings): Promise<void> {
  installTemporalRuntime('error');
  const wired = buildActivities({ runtimeApiUrl: settings.runtimeApiUrl, runtimeApiKey: settings.runtimeApiKey });
  const connection = await NativeConnection.connect({ address: settings.address });
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue: settings.taskQueue,
    activities: wired.activities,
    // The recovery stack's clients are the tests' (test/support), which encrypt with the test key.
    dataConverter: await testDataConverter(),
    workflowBundle: { codePath: settings.bundlePath },
    ...(settings.stickyQueueScheduleToStartTimeout ? { stickyQueueScheduleToStartTimeout: settings.stickyQueueScheduleToStartTimeout } : {}),
  });
  // The parent going away closes stdout: stop rather than linger.
  process.stdout.on('error', () => process.exit(0));
  console.log(READY);
  await worker.run();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runChild(JSON.parse(process.env.RECOVERY_WORKER ?? '') as RecoveryWorkerSettings).catch((error: unknown) => {
    console.error(`worker failed: ${String(error)}`);
    process.exit(1);
  });
}
