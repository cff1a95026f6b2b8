// The worker process: polls the task queue and runs the project's workflows and
// activities. `createWorker` registers both from one place; `npm run worker` runs a
// standalone worker against TEMPORAL_ADDRESS (or the embedded server's default port).
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkflowBundleOption } from '@temporalio/worker';

export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface WorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly activities: object;
  /** A prebuilt bundle (tests share one); otherwise the workflows are bundled now. */
  readonly workflowBundle?: WorkflowBundleOption;
  /** Bound the workflow cache explicitly rather than by the heap-size formula. @default 1000 */
  readonly maxCachedWorkflows?: number;
  /** Time given to running activities to finish on shutdown. @default '10s' */
  readonly shutdownGraceTime?: string;
}

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    maxCachedWorkflows: options.maxCachedWorkflows ?? 1000,
    shutdownGraceTime: options.shutdownGraceTime ?? '10s',
  });
}

export async function connectWorker(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}
