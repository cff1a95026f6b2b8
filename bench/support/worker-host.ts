// The benchmark's worker: the project's worker (createWorker, real activities wired by
// buildActivities) either in this process or in a child process of its own, so its
// memory can be read apart from the Runtime API and the client.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { buildActivities } from '../../src/activities/wiring.js';
import { prometheusTelemetry } from '../../src/observability/metrics.js';
import { startTracing } from '../../src/observability/tracing.js';
import { createWorker, startConversationGauge } from '../../src/worker.js';
import { testDataConverter } from '../../test/support/codec.js';
import { ceilingActivities, deliveredAt } from './ceiling-activities.js';

export interface WorkerSettings {
  readonly address: string;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly runtimeApiUrl: string;
  readonly runtimeApiKey: string;
  /** A workflow bundle built once for every worker. */
  readonly bundlePath: string;
  /** Encrypt payloads (with the test key) as `npm start` does; false writes them in the clear. */
  readonly encrypted: boolean;
  /** The batch store's folder (bench/batch.ts). @default buildActivities' default */
  readonly batchDir?: string;
  /** Passed to createWorker; undefined = the project's default (WORKER_CACHE_SIZE's). */
  readonly maxCachedWorkflows?: number;
  /** 'ceiling': the bundle is ceiling-workflow.ts's and the worker runs its one activity instead of the project's. */
  readonly kind?: 'conversations' | 'ceiling';
  /** Metrics and tracing on, as METRICS_ADDRESS and OTEL_EXPORTER_OTLP_ENDPOINT turn them on (bench/observability.ts). */
  readonly observed?: { readonly metricsAddress: string; readonly otlpEndpoint: string };
}

export interface WorkerHost {
  readonly where: 'in-process' | 'child process';
  readonly taskQueue: string;
  /** Only for a worker in a child process: its PID, for reading its CPU time. */
  readonly pid?: number;
  /** Only for an in-process worker: a client on it can request eager workflow starts. */
  readonly connection?: NativeConnection;
  /** The worker process's memory after a forced GC. */
  memory(): Promise<{ rss: number; heapUsed: number }>;
  /** A ceiling worker's deliveries: message ID → when its activity ran (epoch ms). */
  deliveries(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/** Runs the worker here; `stop` drains it and closes its connections. */
export async function runWorker(settings: WorkerSettings) {
  // As installTemporalRuntime does, but core logs only errors too: a local activity's
  // heartbeat() (the waitUntilAlive experiment) makes core warn on every call.
  // BENCH_WORKER_LOG=WARN (or INFO, DEBUG) shows more, for example why a workflow task failed.
  if (!runtimeInstalled) {
    const level = (process.env.BENCH_WORKER_LOG ?? 'ERROR') as 'ERROR' | 'WARN' | 'INFO' | 'DEBUG';
    const metrics = settings.observed ? prometheusTelemetry(settings.observed.metricsAddress) : {};
    Runtime.install({ logger: new DefaultLogger(level), shutdownSignals: [], telemetryOptions: { logging: { filter: { core: level, other: level } }, ...metrics } });
    runtimeInstalled = true;
  }
  const wired = buildActivities({ runtimeApiUrl: settings.runtimeApiUrl, runtimeApiKey: settings.runtimeApiKey, batchDir: settings.batchDir });
  const connection = await NativeConnection.connect({ address: settings.address });
  const tracing = settings.observed && startTracing({ otlpEndpoint: settings.observed.otlpEndpoint });
  const gauge = settings.observed && startConversationGauge(connection, settings.namespace, settings.taskQueue);
  const worker = await createWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    activities: settings.kind === 'ceiling' ? ceilingActivities : wired.activities,
    dataConverter: settings.encrypted ? await testDataConverter() : {},
    workflowBundle: { codePath: settings.bundlePath },
    maxCachedWorkflows: settings.maxCachedWorkflows,
    tracing,
  });
  const running = worker.run();
  return {
    connection,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      gauge?.stop();
      await tracing?.shutdown();
      await wired.close();
      await connection.close();
    },
  };
}

export const memoryNow = () => {
  globalThis.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
};

export async function startInprocWorker(settings: WorkerSettings): Promise<WorkerHost> {
  const running = await runWorker(settings);
  return { where: 'in-process', taskQueue: settings.taskQueue, connection: running.connection, memory: async () => memoryNow(), deliveries: async () => Object.fromEntries(deliveredAt), stop: running.stop };
}

type ChildMessage =
  | { type: 'ready' }
  | { type: 'memory'; rss: number; heapUsed: number }
  | { type: 'deliveries'; deliveries: Record<string, number> }
  | { type: 'failed'; error: string };

export async function startChildWorker(settings: WorkerSettings): Promise<WorkerHost> {
  const child = fork(fileURLToPath(new URL('./worker-child.ts', import.meta.url)), [], {
    // WORKER_MAX_OLD_SPACE_MB bounds every V8 heap of the worker (its workflow thread's too: the flag is process-wide).
    // BENCH_WORKER_CPU_PROFILE=<folder> writes the worker's V8 CPU profile there when it stops.
    execArgv: [
      '--expose-gc',
      ...(process.env.WORKER_MAX_OLD_SPACE_MB ? [`--max-old-space-size=${process.env.WORKER_MAX_OLD_SPACE_MB}`] : []),
      '--import',
      'tsx',
      ...(process.env.BENCH_WORKER_CPU_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_WORKER_CPU_PROFILE] : []),
    ],
    env: { ...process.env, BENCH_WORKER: JSON.stringify(settings) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const first = await nextMessage(child);
  if (first.type !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(`worker child did not start: ${first.type === 'failed' ? first.error : first.type}`);
  }
  return {
    where: 'child process',
    taskQueue: settings.taskQueue,
    pid: child.pid,
    memory: async () => {
      const message = await ask(child, 'memory');
      if (message.type !== 'memory') throw new Error(`unexpected reply from worker child: ${message.type}`);
      return { rss: message.rss, heapUsed: message.heapUsed };
    },
    deliveries: async () => {
      const message = await ask(child, 'deliveries');
      if (message.type !== 'deliveries') throw new Error(`unexpected reply from worker child: ${message.type}`);
      return message.deliveries;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function ask(child: ChildProcess, type: 'memory' | 'deliveries'): Promise<ChildMessage> {
  const reply = nextMessage(child);
  child.send({ type });
  return reply;
}

function nextMessage(child: ChildProcess): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`worker child exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (message: ChildMessage) => {
      child.off('exit', onExit);
      resolve(message);
    });
  });
}
