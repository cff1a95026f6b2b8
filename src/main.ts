// `npm start`: the embedded default. Brings up Temporal (with its Web UI), the local
// Runtime API and the worker, runs a short demonstration conversation, then keeps
// serving until Ctrl-C or SIGTERM, when it stops everything in order — every sandbox
// included — so that nothing is left running.
import { loadConfigOrExit } from './config.js';
import { DEMO_IDLE_DELAY_MS, runDemo } from './demo.js';
import { startStack } from './stack.js';

const log = (message: string) => console.log(`[durable-conversations] ${message}`);

/** The port OpenTelemetry's Prometheus exporter uses by convention. */
const DEFAULT_METRICS_PORT = '9464';

async function main(): Promise<void> {
  // `npm start` serves metrics unless told otherwise (METRICS_ADDRESS=off); a bare worker only when asked.
  const loaded = loadConfigOrExit();
  const config = { ...loaded, METRICS_ADDRESS: loaded.METRICS_ADDRESS ?? DEFAULT_METRICS_PORT };
  log('starting: Temporal, the Runtime API, the worker…');
  const stack = await startStack(config, { log });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping the worker, every sandbox and the Temporal server…`);
    stack.stop().then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  log(`Temporal ${stack.temporal.embedded ? 'dev server (embedded)' : 'server'} at ${stack.temporal.address}, namespace ${stack.temporal.namespace}`);
  if (stack.temporal.uiUrl) log(`Temporal UI: ${stack.temporal.uiUrl}${stack.codecServer ? ' (decrypts payloads through the codec server)' : ''}`);
  if (stack.codec) log(`payloads encrypted (AES-256-GCM, key ${stack.codec.currentKeyId}); codec server at ${stack.codecServer?.url ?? '(none: no embedded UI)'}`);
  else log('payloads NOT encrypted: PAYLOAD_ENCRYPTION=off');
  const walls = config.RUNTIME_DRIVER === 'inproc' || config.RUNTIME_ISOLATION === 'off' ? 'NOT isolated' : `isolated, ${config.RUNTIME_NETWORK} network`;
  log(`Runtime API ${stack.runtime.embedded ? `(local, ${config.RUNTIME_DRIVER} driver, ${config.RUNTIME_AGENT} agent, sandboxes ${walls}) ` : ''}at ${stack.runtime.url}`);
  log(`worker polling task queue "${config.TEMPORAL_TASK_QUEUE}"`);
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT) log(`traces (OTLP/HTTP) to ${config.OTEL_EXPORTER_OTLP_ENDPOINT}`);
  log(stack.metricsUrl ? `metrics (Prometheus): ${stack.metricsUrl}` : 'metrics: off (METRICS_ADDRESS=off)');
  // The demo shows a pause within seconds: it sets a short idle delay, which needs the deployment's leave.
  if (config.DEMO === 'on' && !config.CONVERSATION_POLICY_OVERRIDES.includes('idleDelay')) {
    log('demo skipped: it sets a short idle delay, and CONVERSATION_POLICY_OVERRIDES does not list idleDelay');
  } else if (config.DEMO === 'on') {
    log('running the demonstration conversation (DEMO=off skips it)…');
    const demoClient = stack.conversations.withPolicyOverrides({ idleDelayMs: DEMO_IDLE_DELAY_MS });
    await runDemo({ conversations: demoClient, agent: stack.agent, uiUrl: stack.temporal.uiUrl, namespace: stack.temporal.namespace, print: log }).catch(
      (error: unknown) => log(`demo failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  }
  log('serving — try `npm run cli -- start my-first --user me --message "echo hi"`; press Ctrl-C to stop');
}

main().catch((error: unknown) => {
  console.error(`[durable-conversations] failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
