// The benchmark's private world: in-memory Temporal dev servers on free ports (with the
// project's search attributes), one local Runtime API (inproc driver, faults as asked),
// the workflow bundle built once, and "lanes" — a worker plus a ConversationClient on
// its own task queue — so several configurations can be measured side by side.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { buildActivities } from '../../src/activities/wiring.js';
import { FAILURE_CONVERTER_PATH } from '../../src/codec/data-converter.js';
import { ConversationClient } from '../../src/client.js';
import type { FaultOptions } from '../../src/local-runtime/faults.js';
import { createRuntimeApiServer } from '../../src/local-runtime/server.js';
import { freePort, startDevServer } from '../../src/temporal/dev-server.js';
import type { RunningDevServer } from '../../src/temporal/dev-server.js';
import { projectRoot, toolsDir } from '../../src/temporal/server.js';
import { TEMPORAL_CLI, resolveTool } from '../../src/temporal/tool-resolver.js';
import { workflowsPath } from '../../src/worker.js';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../src/observability/tracing.js';
import { testDataConverter } from '../../test/support/codec.js';
import { projectSearchAttributes } from '../../src/workflows/search-attributes.js';
import { startChildWorker, startInprocWorker } from './worker-host.js';
import type { WorkerHost } from './worker-host.js';

export async function startTemporal(dynamicConfig?: Record<string, unknown>): Promise<RunningDevServer> {
  const cli = await resolveTool(TEMPORAL_CLI, { toolsDir: toolsDir(projectRoot), allowSdkDownload: false });
  if (cli.source === 'sdk-download') throw new Error('no temporal CLI found; run `npm test` once to install it');
  return startDevServer({ executable: cli.path, port: await freePort(), searchAttributes: projectSearchAttributes, dynamicConfig });
}

/** The local Runtime API (inproc sandboxes) and, in this process, the activities wired to it. */
export async function startRuntimeApi(faults: FaultOptions) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-conversations-'));
  const apiKey = randomBytes(16).toString('hex');
  const server = await createRuntimeApiServer({ apiKey, dataDir, driver: 'inproc', faults, stopGraceMs: 1_000, log: () => {} });
  const wired = buildActivities({ runtimeApiUrl: server.url, runtimeApiKey: apiKey });
  return {
    url: server.url,
    apiKey,
    dataDir,
    wired,
    close: async () => {
      await wired.close();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
export type RuntimeApi = Awaited<ReturnType<typeof startRuntimeApi>>;

export interface BundleOptions {
  /** Run these activities as local activities (local-activities-workflow.ts). */
  readonly localActivities?: readonly string[];
  /**
   * The workflow as it provisioned before the fewer-tasks patch (src/workflows/fewer-tasks.ts
   * answers false): three provisioning activities and the admission round trip, to measure
   * beside the code of today.
   */
  readonly beforeFewerTasks?: boolean;
}

/**
 * Bundles the project's workflows once for every worker. Modules of src/workflows can be
 * swapped for bench-only ones (see BundleOptions): src stays as it is.
 */
export async function buildBundle(dir: string, options: BundleOptions = {}): Promise<string> {
  const quiet = { log: () => {}, trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: (m: string) => console.error(m) };
  const localActivities = options.localActivities ?? [];
  const name = [localActivities.length > 0 ? `local-${localActivities.join('-')}` : 'plain', options.beforeFewerTasks ? 'before' : ''].filter(Boolean).join('-');
  const workflowsDir = path.dirname(workflowsPath);
  const swaps = new Map<string, string>();
  // Imports made by these files reach the real modules: a swap re-exports what it does not replace.
  const unswapped = new Set<string>();
  if (localActivities.length > 0) {
    const helper = fileURLToPath(new URL('./local-activities-workflow.ts', import.meta.url));
    const real = path.join(workflowsDir, 'activities.ts');
    const swap = path.join(dir, `activities-${name}.js`);
    await writeFile(swap, `export * from ${JSON.stringify(real)};\n` +
      `import { withLocalActivities } from ${JSON.stringify(helper)};\n` +
      `export const activitiesFor = (policy) => withLocalActivities(policy, ${JSON.stringify(localActivities)});\n`);
    swaps.set(path.join(workflowsDir, 'activities.js'), swap);
    unswapped.add(helper).add(swap);
  }
  if (options.beforeFewerTasks) {
    const swap = path.join(dir, `fewer-tasks-${name}.js`);
    await writeFile(swap, `export const FEWER_TASKS_TO_PROVISION = 'fewer-tasks-to-provision';\nexport const fewerTasksToProvision = () => false;\n`);
    swaps.set(path.join(workflowsDir, 'fewer-tasks.js'), swap);
  }
  const swapPlugin = {
    apply: (compiler: Compiler) =>
      compiler.hooks.normalModuleFactory.tap('bench-swaps', (factory) =>
        factory.hooks.beforeResolve.tap('bench-swaps', (data) => {
          const fromSwap = unswapped.has(data.contextInfo.issuer);
          const swap = data.request.startsWith('.') && !fromSwap ? swaps.get(path.resolve(data.context, data.request)) : undefined;
          if (swap) data.request = swap;
        }),
      ),
  };
  const bundle = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: quiet,
    webpackConfigHook: swaps.size > 0 ? (config) => ({ ...config, plugins: [...(config.plugins ?? []), swapPlugin] }) : undefined,
  });
  const bundlePath = path.join(dir, `workflow-bundle-${name}.js`);
  await writeFile(bundlePath, bundle.code);
  return bundlePath;
}

/** Bundles one of the benchmark's own workflow files (bench/support/${file}), with the project's failure converter. */
export async function buildBenchWorkflowBundle(dir: string, file: string): Promise<string> {
  const quiet = { log: () => {}, trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: (m: string) => console.error(m) };
  const bundle = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL(`./${file}`, import.meta.url)), failureConverterPath: FAILURE_CONVERTER_PATH, logger: quiet });
  const bundlePath = path.join(dir, `workflow-bundle-${path.basename(file, '.ts')}.js`);
  await writeFile(bundlePath, bundle.code);
  return bundlePath;
}

/** The floor for start → ready (floor-workflow.ts). */
export const buildFloorBundle = (dir: string): Promise<string> => buildBenchWorkflowBundle(dir, 'floor-workflow.ts');

/** The bits of webpack's compiler the swap plugin touches (webpack is not a direct dependency). */
interface Compiler {
  hooks: {
    normalModuleFactory: {
      tap(name: string, fn: (factory: { hooks: { beforeResolve: { tap(name: string, fn: (data: { request: string; context: string; contextInfo: { issuer: string } }) => void): void } } }) => void): void;
    };
  };
}

export interface Lane {
  readonly label: string;
  readonly worker: WorkerHost;
  readonly conversations: ConversationClient;
  /** Present when the worker runs here: a ConversationClient whose starts ask for eager execution. */
  readonly eagerConversations?: ConversationClient;
  close(): Promise<void>;
}

export interface LaneOptions {
  readonly label: string;
  readonly temporal: RunningDevServer;
  readonly runtime: RuntimeApi;
  readonly bundlePath: string;
  readonly where: 'in-process' | 'child process';
  /** Payload encryption on clients and worker, as `npm start` runs. @default true */
  readonly encrypted?: boolean;
  /** The worker's sticky cache. @default the project's default (WORKER_CACHE_SIZE's) */
  readonly maxCachedWorkflows?: number;
  /** 'ceiling': the worker runs ceiling-workflow.ts (bundlePath must be its bundle). @default 'conversations' */
  readonly kind?: 'conversations' | 'ceiling';
  /** Metrics and tracing on in the worker (and tracing on the lane's client), exporting spans to this OTLP endpoint. */
  readonly observed?: { readonly otlpEndpoint: string; readonly clientInterceptors: WorkflowClientInterceptor[] };
}

/** Adds `requestEagerStart` to every start, leaving ConversationClient.start itself as it is. */
const eagerStart: WorkflowClientInterceptor = {
  start: (input, next) => next({ ...input, options: { ...input.options, requestEagerStart: true } }),
};

export async function startLane(options: LaneOptions): Promise<Lane> {
  const { temporal, runtime } = options;
  const settings = {
    address: temporal.address,
    namespace: temporal.namespace,
    taskQueue: `bench-${options.label.replace(/\W+/g, '-')}-${randomBytes(3).toString('hex')}`,
    runtimeApiUrl: runtime.url,
    runtimeApiKey: runtime.apiKey,
    bundlePath: options.bundlePath,
    encrypted: options.encrypted ?? true,
    maxCachedWorkflows: options.maxCachedWorkflows,
    kind: options.kind,
    observed: options.observed && { metricsAddress: `127.0.0.1:${await freePort()}`, otlpEndpoint: options.observed.otlpEndpoint },
  };
  const dataConverter = settings.encrypted ? await testDataConverter() : {};
  const worker = options.where === 'child process' ? await startChildWorker(settings) : await startInprocWorker(settings);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter, interceptors: { workflow: options.observed?.clientInterceptors ?? [] } });
  const make = (c: Client) => new ConversationClient({ client: c, taskQueue: settings.taskQueue, runtimeApi: runtime.wired.runtimeApi });
  // Eager start needs the client on the worker's own NativeConnection.
  const eagerClient = worker.connection
    ? new Client({ connection: worker.connection, namespace: temporal.namespace, dataConverter, interceptors: { workflow: [eagerStart] } })
    : undefined;
  return {
    label: options.label,
    worker,
    conversations: make(client),
    eagerConversations: eagerClient && make(eagerClient),
    close: async () => {
      await connection.close();
      await worker.stop();
    },
  };
}

/** Starts the lanes one part needs, runs the part, and closes them however it ends. */
export async function withLanes<T>(
  runtime: RuntimeApi,
  specs: Record<string, Omit<LaneOptions, 'label' | 'runtime'>>,
  part: (lanes: Record<string, Lane>) => Promise<T>,
): Promise<T> {
  const lanes: Record<string, Lane> = {};
  try {
    for (const [label, spec] of Object.entries(specs)) lanes[label] = await startLane({ label, runtime, ...spec });
    return await part(lanes);
  } finally {
    for (const lane of Object.values(lanes)) await lane.close();
  }
}
