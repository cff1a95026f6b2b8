// Brings up the whole application in one process — Temporal (configured or embedded),
// the worker — and takes it down in the reverse order: the worker drains first, so no
// activity is cut off by a server that went away under it.
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Config } from './config.js';
import { ensureTemporalServer } from './temporal/server.js';
import type { EmbeddedOptions, TemporalServer } from './temporal/server.js';
import { installTemporalRuntime } from './temporal/runtime.js';
import { connectWorker, createWorker } from './worker.js';

export interface Stack {
  readonly temporal: TemporalServer;
  readonly client: Client;
  readonly worker: Worker;
  /** Stops everything this stack started; safe to call twice. */
  stop(): Promise<void>;
}

export interface StackOptions extends EmbeddedOptions {
  readonly activities?: object;
}

export async function startStack(config: Config, options: StackOptions = {}): Promise<Stack> {
  installTemporalRuntime(config.LOG_LEVEL);
  const cleanups: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => options.log?.(`shutdown: ${String(error)}`));
  };
  try {
    const temporal = await ensureTemporalServer(config, options);
    cleanups.push(() => temporal.stop());
    const nativeConnection: NativeConnection = await connectWorker(temporal.address);
    cleanups.push(() => nativeConnection.close());
    const connection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: temporal.namespace });

    const worker = await createWorker({
      connection: nativeConnection,
      namespace: temporal.namespace,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      activities: options.activities ?? {},
    });
    const running = worker.run();
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });
    return { temporal, client, worker, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
