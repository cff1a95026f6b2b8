// Shared plumbing for tests that need Temporal: the server `npm test` started
// (TEMPORAL_ADDRESS), the workflow bundle it built once, a worker per test file on its
// own task queue, and unique workflow IDs so tests never share one.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import { installTemporalRuntime } from '../../src/temporal/runtime.js';
import type { Tracing } from '../../src/observability/tracing.js';
import { createWorker } from '../../src/worker.js';
import { testDataConverter } from './codec.js';

export function temporalAddress(): string {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: run the tests with `npm test`, which starts a Temporal server');
  return address;
}

export const uniqueId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export interface TestTemporal {
  readonly client: Client;
  readonly taskQueue: string;
  /** Undefined when the test runs its workers elsewhere (e.g. child processes). */
  readonly worker: Worker | undefined;
  close(): Promise<void>;
}

/** Connects a client and, unless `worker: false`, starts a worker with `activities` on a fresh task queue. */
export async function startTestWorker(activities: object = {}, options: { taskQueue?: string; worker?: boolean; address?: string; tracing?: Tracing } = {}): Promise<TestTemporal> {
  // Expected activity failures would log full stacks at WARN; tests assert on them instead.
  installTemporalRuntime('error');
  const address = options.address ?? temporalAddress();
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const taskQueue = options.taskQueue ?? uniqueId('test-tq');
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const dataConverter = await testDataConverter();
  const client = new Client({ connection, namespace, dataConverter, interceptors: { workflow: options.tracing?.clientInterceptors ?? [] } });
  if (options.worker === false) {
    return {
      client,
      taskQueue,
      worker: undefined,
      close: async () => {
        await connection.close();
        await nativeConnection.close();
      },
    };
  }
  const bundlePath = process.env.TEST_WORKFLOW_BUNDLE;
  const worker = await createWorker({
    connection: nativeConnection,
    namespace,
    taskQueue,
    activities,
    dataConverter,
    workflowBundle: bundlePath ? { codePath: bundlePath } : undefined,
    shutdownGraceTime: '2s',
    tracing: options.tracing,
  });
  const running = worker.run();
  return {
    client,
    taskQueue,
    worker,
    close: async () => {
      // The native worker reports the end of its shutdown through a callback that does not
      // hold the event loop open: on a busy machine the loop could run dry first, and node
      // would end the test file with "Promise resolution is still pending".
      const keepAlive = setInterval(() => {}, 1000);
      try {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        await connection.close();
        await nativeConnection.close();
      } finally {
        clearInterval(keepAlive);
      }
    },
  };
}
