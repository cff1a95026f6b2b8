// The worker process: polls the task queue and runs the project's workflows and
// activities. `createWorker` registers both from one place. `npm run worker` runs a
// standalone worker against TEMPORAL_ADDRESS (default: the embedded server's port) and
// the configured Runtime API — add as many as you like; Temporal spreads the work.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { WorkflowBundleOption } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { dataConverterWith, payloadCodecFrom } from './codec/data-converter.js';
import { PAYLOAD_WARN_BYTES } from './codec/message-size.js';
import { activitySettingsFrom, buildActivities } from './activities/wiring.js';
import { DEFAULT_WORKER_CACHE_SIZE, loadConfigOrExit, metricsSetting } from './config.js';
import { conversationLogAttributes } from './observability/log-attributes.js';
import { workerLogger } from './observability/logging.js';
import { startStatusGauge } from './observability/metrics.js';
import { UNTRACED_SINKS, WORKFLOW_INTERCEPTOR_MODULES, startTracing } from './observability/tracing.js';
import type { Tracing } from './observability/tracing.js';
import { runtimeEndpointFor } from './runtime-endpoint.js';
import { installTemporalRuntime } from './temporal/runtime.js';
import { assertTemporalReachable } from './temporal/connect.js';
import { TemporalUnavailableError } from './client-errors.js';

export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/**
 * Not the SDK's 10 s: when a worker dies, the workflow task that takes in its activity's
 * retry (and any query) first waits this long on the dead worker's sticky queue, which
 * added up to 10 s to recovering from a dead worker (bench/recovery.ts). A live worker
 * that misses a sticky task only costs one history replay on another worker.
 */
export const STICKY_QUEUE_TIMEOUT = '3s';

export interface WorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly activities: object;
  /** The payload codec every client of the task queue uses too (codec/data-converter.ts); `{}` writes payloads in the clear. */
  readonly dataConverter: DataConverter;
  /** A prebuilt bundle (tests share one); otherwise the workflows are bundled now. */
  readonly workflowBundle?: WorkflowBundleOption;
  /**
   * The sticky cache: workflows kept in memory between their events (WORKER_CACHE_SIZE).
   * Bounded explicitly, not by the SDK's heap-size formula, which assumes about 1 MB each
   * and grows with the heap. @default DEFAULT_WORKER_CACHE_SIZE
   */
  readonly maxCachedWorkflows?: number;
  /** Time given to running activities to finish on shutdown. @default '10s' */
  readonly shutdownGraceTime?: string;
  /** How long a workflow task waits for this worker on its sticky queue before going to any worker. @default STICKY_QUEUE_TIMEOUT */
  readonly stickyQueueScheduleToStartTimeout?: string;
  /** Trace activities and export the workflow's spans (observability/tracing.ts); undefined = untraced. */
  readonly tracing?: Tracing;
}

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    dataConverter: options.dataConverter,
    // A prebuilt bundle has the workflow interceptors built in (bundled with WORKFLOW_INTERCEPTOR_MODULES).
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    interceptors: {
      ...options.tracing?.workerInterceptors,
      activity: [...(options.tracing?.workerInterceptors.activity ?? []), conversationLogAttributes],
      ...(options.workflowBundle ? {} : { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }),
    },
    sinks: options.tracing?.sinks ?? UNTRACED_SINKS,
    maxCachedWorkflows: options.maxCachedWorkflows ?? DEFAULT_WORKER_CACHE_SIZE,
    shutdownGraceTime: options.shutdownGraceTime ?? '10s',
    stickyQueueScheduleToStartTimeout: options.stickyQueueScheduleToStartTimeout ?? STICKY_QUEUE_TIMEOUT,
  });
}

/** The SDK warns about any outbound payload over 512 KiB; a message within the limit is bigger than that, legitimately. */
/** Says which address and variable to look at when Temporal does not answer, instead of the native client's transport error. */
export async function connectWorker(address: string): Promise<NativeConnection> {
  const action = 'connect the worker';
  await assertTemporalReachable(address, action);
  try {
    return await NativeConnection.connect({ address, payloadLimits: { payloadsWarnSize: PAYLOAD_WARN_BYTES } });
  } catch (error) {
    // The port answered but not as a Temporal frontend (another service, TLS, a proxy).
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
    throw new TemporalUnavailableError({ address, action }, `it answered, but not as a Temporal frontend: ${reason.slice(0, 200)}`, { cause: error });
  }
}

/** The by-status gauge of the task queue's conversations, counted through the worker's own connection. */
export function startConversationGauge(connection: NativeConnection, namespace: string, taskQueue: string) {
  const client = new Client({ connection, namespace });
  return startStatusGauge({ client, meter: Runtime.instance().metricMeter, taskQueue, onError: (error) => console.error(`conversations gauge: ${String(error)}`) });
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const metricsAddress = installTemporalRuntime(config.LOG_LEVEL, { metricsAddress: metricsSetting(config), logger: workerLogger(config) });
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
  const endpoint = await runtimeEndpointFor(config);
  const codec = await payloadCodecFrom(config);
  // Transcripts at rest are sealed with the payload keys, as history is.
  const wired = buildActivities({ ...activitySettingsFrom(config, endpoint), transcriptCodecs: codec ? [codec] : [] });
  const connection = await connectWorker(address);
  const tracing = startTracing({ otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const worker = await createWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities: wired.activities,
    dataConverter: dataConverterWith(codec),
    workflowBundle: config.WORKFLOW_BUNDLE_PATH ? { codePath: config.WORKFLOW_BUNDLE_PATH } : undefined,
    maxCachedWorkflows: config.WORKER_CACHE_SIZE,
    tracing,
  });
  const statusGauge = metricsAddress ? startConversationGauge(connection, config.TEMPORAL_NAMESPACE, config.TEMPORAL_TASK_QUEUE) : undefined;
  const stop = () => worker.getState() === 'RUNNING' && worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const encryption = codec ? `payloads encrypted with key ${codec.currentKeyId}` : 'payloads NOT encrypted (PAYLOAD_ENCRYPTION=off)';
  console.log(`worker polling "${config.TEMPORAL_TASK_QUEUE}" on ${address}; Runtime API ${endpoint.url}; ${encryption}`);
  if (metricsAddress) console.log(`metrics at http://${metricsAddress}/metrics`);
  if (tracing) console.log(`traces to ${config.OTEL_EXPORTER_OTLP_ENDPOINT ?? ''} (OTLP/HTTP)`);
  await worker.run();
  statusGauge?.stop();
  await tracing?.shutdown();
  await wired.close();
  await connection.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`worker failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
