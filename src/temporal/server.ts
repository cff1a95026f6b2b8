// Gives the program a Temporal server: the configured one (TEMPORAL_ADDRESS), or an
// embedded dev server started from a locally found or installed `temporal` executable,
// or — where neither exists but the internet does — the one the Temporal SDK downloads.
import path from 'node:path';
import type { Config } from '../config.js';
import { projectSearchAttributes } from '../workflows/search-attributes.js';
import { startDevServer } from './dev-server.js';
import type { RunningDevServer } from './dev-server.js';
import { TEMPORAL_CLI, resolveTool } from './tool-resolver.js';

export type TemporalServer = Omit<RunningDevServer, 'pid'> & { readonly embedded: boolean };

/** The project-local tools folder (git-ignored); shared by every checkout command. */
export const toolsDir = (projectRoot: string) => path.join(projectRoot, '.tools');

export const projectRoot = path.resolve(import.meta.dirname, '..', '..');

/**
 * The dev server has one history shard, which by default reads its transfer queue (every
 * workflow and activity task passes through it) at most 20 times a second; each message
 * makes about five such tasks, so they queued for up to 50 ms. Measured with
 * bench/conversations.ts: signal→delivered p50/p99 32/81 ms before, 15/23 ms after.
 */
export const EMBEDDED_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = { 'history.transferProcessorMaxPollRPS': 1000 };

export interface EmbeddedOptions {
  readonly log?: (message: string) => void;
  /** Keep state in memory and skip the UI (tests). */
  readonly ephemeral?: boolean;
  readonly port?: number;
  readonly dynamicConfig?: Readonly<Record<string, unknown>>;
  /** The codec server the embedded Web UI decrypts payloads with (its token-bearing URL). */
  readonly uiCodecEndpoint?: string;
}

export async function ensureTemporalServer(config: Config, options: EmbeddedOptions = {}): Promise<TemporalServer> {
  if (config.TEMPORAL_ADDRESS) {
    return { address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE, uiUrl: undefined, embedded: false, stop: async () => {} };
  }
  options.log?.('finding the Temporal CLI…');
  const cli = await resolveTool(TEMPORAL_CLI, { explicitPath: config.TEMPORAL_CLI_PATH, toolsDir: toolsDir(projectRoot), log: options.log });
  const port = options.port ?? config.TEMPORAL_PORT;
  const uiPort = options.ephemeral ? undefined : config.TEMPORAL_UI_PORT;
  const dbFile = options.ephemeral ? undefined : path.join(config.DATA_DIR, 'temporal.sqlite');
  if (cli.source === 'sdk-download') {
    options.log?.('no temporal executable found or installable; using the Temporal SDK download');
    return startSdkDownloadedServer({ config, port, uiPort, dbFile, uiCodecEndpoint: options.uiCodecEndpoint });
  }
  options.log?.(
    `starting the Temporal dev server on 127.0.0.1:${port}${dbFile ? ` (state in ${dbFile})` : ''}; a cold start takes 10–30 s on a small machine (limit: TEMPORAL_START_TIMEOUT, ${config.TEMPORAL_START_TIMEOUT / 1000} s)…`,
  );
  const started = Date.now();
  const server = await startDevServer({
    executable: cli.path,
    port,
    uiPort,
    uiCodecEndpoint: options.uiCodecEndpoint,
    dbFile,
    namespace: config.TEMPORAL_NAMESPACE,
    searchAttributes: projectSearchAttributes,
    startTimeoutMs: config.TEMPORAL_START_TIMEOUT,
    dynamicConfig: { ...EMBEDDED_DYNAMIC_CONFIG, ...options.dynamicConfig },
  });
  options.log?.(`Temporal answered after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { ...server, embedded: true };
}

async function startSdkDownloadedServer(args: { config: Config; port: number; uiPort?: number; dbFile?: string; uiCodecEndpoint?: string }): Promise<TemporalServer> {
  // Loaded lazily: the testing package is only needed on this fallback path.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      port: args.port,
      ui: args.uiPort !== undefined,
      uiPort: args.uiPort,
      dbFilename: args.dbFile,
      namespace: args.config.TEMPORAL_NAMESPACE,
      searchAttributes: [...projectSearchAttributes],
      extraArgs: args.uiCodecEndpoint && args.uiPort !== undefined ? ['--ui-codec-endpoint', args.uiCodecEndpoint] : [],
    },
  });
  return {
    address: env.address,
    namespace: args.config.TEMPORAL_NAMESPACE,
    uiUrl: args.uiPort === undefined ? undefined : `http://localhost:${args.uiPort}`,
    embedded: true,
    stop: () => env.teardown(),
  };
}
