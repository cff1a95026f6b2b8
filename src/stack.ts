// Brings up the whole application in one process — Temporal (configured or embedded),
// the Runtime API (configured or the local one), the worker with its activities — and
// takes it down in the reverse order: the worker drains first, so no activity is cut
// off by a server that went away under it, and the local Runtime API stops last of the
// two so that every sandbox is stopped with it.
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { AgentSettings } from './activities/agent-config.js';
import { activitySettingsFrom, buildActivities } from './activities/wiring.js';
import { SCRIPTED_MODEL, startScriptedLlm } from './llm/scripted-llm.js';
import { ConversationClient } from './client.js';
import { dataConverterWith, payloadCodecFrom } from './codec/data-converter.js';
import type { EncryptionCodec } from './codec/encryption-codec.js';
import { startConfiguredCodecServer } from './codec/embedded.js';
import type { CodecServer } from './codec/server.js';
import { metricsSetting } from './config.js';
import type { Config } from './config.js';
import { ensureRuntimeEndpoint } from './runtime-endpoint.js';
import type { RuntimeEndpoint } from './runtime-endpoint.js';
import { ensureTemporalServer } from './temporal/server.js';
import type { EmbeddedOptions, TemporalServer } from './temporal/server.js';
import { installTemporalRuntime } from './temporal/runtime.js';
import { connectWorker, createWorker, startConversationGauge } from './worker.js';
import { assertTemporalReachable } from './temporal/connect.js';
import { lockDataDir } from './startup/data-lock.js';
import { assertPortsFree, plannedPorts } from './startup/ports.js';
import { startTracing } from './observability/tracing.js';
import { workerLogger } from './observability/logging.js';

export interface Stack {
  readonly temporal: TemporalServer;
  readonly runtime: RuntimeEndpoint;
  readonly client: Client;
  readonly conversations: ConversationClient;
  readonly worker: Worker;
  /** The payload codec of every client and worker here; undefined only with PAYLOAD_ENCRYPTION=off. */
  readonly codec: EncryptionCodec | undefined;
  /** The codec server the embedded Web UI decrypts with; only beside an embedded UI. */
  readonly codecServer: CodecServer | undefined;
  /** What answers messages: the shell agent, the OpenHands agent with the configured LLM, or with the bundled scripted one. */
  readonly agent: 'shell' | 'openhands' | 'openhands-scripted';
  /** Where Prometheus scrapes this process (METRICS_ADDRESS); undefined when not served. */
  readonly metricsUrl: string | undefined;
  /** Stops everything this stack started; safe to call twice. */
  stop(): Promise<void>;
}

export type StackOptions = EmbeddedOptions;

/**
 * With the real OpenHands agent and no LLM configured, the agent talks to the bundled
 * scripted LLM (src/llm/script.ts), so a user sees the real agent server work offline.
 */
async function bundledLlmIfNeeded(config: Config, log?: (line: string) => void) {
  const llmConfigured = config.LLM_MODEL !== 'shell' || config.LLM_BASE_URL !== undefined;
  if (config.RUNTIME_AGENT !== 'openhands' || llmConfigured) return undefined;
  const llm = await startScriptedLlm();
  log?.(`no LLM configured (LLM_MODEL, LLM_BASE_URL): the OpenHands agent uses the bundled scripted LLM at ${llm.baseUrl}; "run: <command>" makes it use its terminal`);
  const agent: Partial<AgentSettings> = { model: SCRIPTED_MODEL, baseUrl: llm.baseUrl, apiKey: { value: 'scripted' }, numRetries: 0 };
  return { agent, close: () => llm.close() };
}

/**
 * What can be known to fail before anything starts: every port the embedded parts will
 * take (all the taken ones in one message), and a configured Temporal that does not answer.
 */
async function checkBeforeStarting(config: Config, options: StackOptions & { codecServer: boolean }, log: (line: string) => void): Promise<void> {
  const embeddedTemporal = !config.TEMPORAL_ADDRESS;
  await assertPortsFree(
    plannedPorts(config, {
      temporal: embeddedTemporal && options.port === undefined,
      ui: !options.ephemeral,
      codecServer: options.codecServer,
      runtimeApi: !config.RUNTIME_API_URL,
    }),
  );
  if (!embeddedTemporal) {
    log(`checking the Temporal server at ${config.TEMPORAL_ADDRESS}…`);
    await assertTemporalReachable(config.TEMPORAL_ADDRESS as string, 'start the worker');
  }
}

export async function startStack(config: Config, options: StackOptions = {}): Promise<Stack> {
  let metricsAddress: string | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => options.log?.(`shutdown: ${String(error)}`));
  };
  const log = options.log ?? (() => {});
  try {
    if (!options.ephemeral) {
      const lock = await lockDataDir(config.DATA_DIR);
      cleanups.push(() => lock.release());
    }
    const codec = await payloadCodecFrom(config);
    const dataConverter = dataConverterWith(codec);
    const embeddedUi = !config.TEMPORAL_ADDRESS && !options.ephemeral;
    await checkBeforeStarting(config, { ...options, codecServer: Boolean(codec && embeddedUi) }, log);
    // After the port check, which would otherwise find the metrics port taken by this very process.
    metricsAddress = installTemporalRuntime(config.LOG_LEVEL, { metricsAddress: metricsSetting(config), logger: workerLogger(config) });
    // Started first: the embedded Web UI is given its URL at start.
    const codecServer = codec && embeddedUi ? await startConfiguredCodecServer(config, codec, options.log) : undefined;
    if (codecServer) cleanups.push(() => codecServer.close());
    const temporal = await ensureTemporalServer(config, { ...options, uiCodecEndpoint: codecServer?.tokenUrl });
    cleanups.push(() => temporal.stop());
    const runtimeLog = config.LOG_LEVEL === 'debug' ? (line: string) => options.log?.(`runtime-api: ${line}`) : () => {};
    if (!config.RUNTIME_API_URL) log(`starting the local Runtime API on ${config.RUNTIME_API_HOST}:${config.RUNTIME_API_PORT}…`);
    const runtime = await ensureRuntimeEndpoint(config, runtimeLog);
    cleanups.push(() => runtime.close());
    // Transcripts at rest are sealed with the payload keys, as history is.
    const settings = { ...activitySettingsFrom(config, runtime), transcriptCodecs: codec ? [codec] : [] };
    const llm = await bundledLlmIfNeeded(config, options.log);
    if (llm) cleanups.push(() => llm.close());
    const wired = buildActivities(llm ? { ...settings, agent: { ...settings.agent, ...llm.agent } } : settings);
    cleanups.push(() => wired.close());

    const tracing = startTracing({ otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
    if (tracing) cleanups.push(() => tracing.shutdown());
    const nativeConnection: NativeConnection = await connectWorker(temporal.address);
    cleanups.push(() => nativeConnection.close());
    const connection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: temporal.namespace, dataConverter, interceptors: { workflow: tracing?.clientInterceptors ?? [] } });
    const conversations = new ConversationClient({
      client,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      runtimeApi: wired.runtimeApi,
    });

    log('starting the worker (bundling the workflows takes a few seconds)…');
    const worker = await createWorker({
      connection: nativeConnection,
      namespace: temporal.namespace,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      activities: wired.activities,
      dataConverter,
      maxCachedWorkflows: config.WORKER_CACHE_SIZE,
      tracing,
    });
    const running = worker.run();
    if (metricsAddress) {
      const gauge = startConversationGauge(nativeConnection, temporal.namespace, config.TEMPORAL_TASK_QUEUE);
      cleanups.push(async () => gauge.stop());
    }
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });
    return { temporal, runtime, client, conversations, worker, codec, codecServer, agent: llm ? 'openhands-scripted' : config.RUNTIME_AGENT === 'openhands' ? 'openhands' : 'shell', metricsUrl: metricsAddress && `http://${metricsAddress}/metrics`, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
