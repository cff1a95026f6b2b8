// Where the application's Runtime API is: the configured one (RUNTIME_API_URL and
// RUNTIME_API_KEY, e.g. a hosted OpenHands Runtime API), or the embedded local one.
// The embedded server's key is kept in the data folder (mode 0600) so that the CLI in
// another terminal, and the next `npm start`, use the same one.
import path from 'node:path';
import type { Config } from './config.js';
import { createRuntimeApiServer } from './local-runtime/server.js';
import type { RuntimeApiServer } from './local-runtime/server.js';
import { parseFaults } from './local-runtime/faults.js';
import { readOrCreateSecret } from './secret-file.js';
import { PROJECT_TOOLS_DIR, resolveAgentServer } from './tools/agent-server.js';
import { resolveBubblewrap } from './tools/bubblewrap.js';

export interface RuntimeEndpoint {
  readonly url: string;
  readonly apiKey: string;
  readonly embedded: boolean;
  close(): Promise<void>;
}

export class RuntimeEndpointError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeEndpointError';
  }
}

/** The URL and key a client should use, without starting anything. */
export async function runtimeEndpointFor(config: Config): Promise<{ url: string; apiKey: string }> {
  if (config.RUNTIME_API_URL) {
    if (!config.RUNTIME_API_KEY) throw new RuntimeEndpointError('RUNTIME_API_URL is set but RUNTIME_API_KEY is not: the Runtime API needs its X-API-Key');
    return { url: config.RUNTIME_API_URL, apiKey: config.RUNTIME_API_KEY };
  }
  return { url: `http://${config.RUNTIME_API_HOST}:${config.RUNTIME_API_PORT}`, apiKey: config.RUNTIME_API_KEY ?? (await embeddedKey(config)) };
}

export async function ensureRuntimeEndpoint(config: Config, log?: (line: string) => void): Promise<RuntimeEndpoint> {
  if (config.RUNTIME_API_URL) return { ...(await runtimeEndpointFor(config)), embedded: false, close: async () => {} };
  const local = await startLocalRuntimeApi(config, log);
  return { url: local.server.url, apiKey: local.apiKey, embedded: true, close: () => local.server.close() };
}

/** Starts the local Runtime API as configured (also what `npm run runtime-api` runs). */
export async function startLocalRuntimeApi(
  config: Config,
  log?: (line: string) => void,
): Promise<{ server: RuntimeApiServer; apiKey: string; keyFile?: string }> {
  const apiKey = config.RUNTIME_API_KEY ?? (await embeddedKey(config));
  try {
    const server = await createRuntimeApiServer({
      apiKey,
      host: config.RUNTIME_API_HOST,
      port: config.RUNTIME_API_PORT,
      publicUrl: config.RUNTIME_API_PUBLIC_URL,
      driver: config.RUNTIME_DRIVER,
      dataDir: path.join(config.DATA_DIR, 'runtimes'),
      faults: parseFaults(config.RUNTIME_API_FAULTS),
      agent: config.RUNTIME_AGENT,
      isolation: {
        mode: config.RUNTIME_ISOLATION,
        network: config.RUNTIME_NETWORK,
        // Installed from Debian's packages if missing (as root), like the tools in .tools/.
        bubblewrap: () => resolveBubblewrap({ explicitPath: config.RUNTIME_BWRAP_PATH, log: log ?? logToStderr }),
      },
      openhands: {
        // Installs the pinned server into .tools/ if nothing else is found: at start-up with
        // RUNTIME_AGENT=openhands, else on the first /start whose image asks for it.
        server: () => resolveAgentServer({ explicitPath: config.OPENHANDS_AGENT_SERVER_PATH, toolsDir: PROJECT_TOOLS_DIR, log: log ?? logToStderr }),
        maxConcurrentRuns: config.OPENHANDS_MAX_CONCURRENT_RUNS,
      },
      log,
    });
    return { server, apiKey, keyFile: config.RUNTIME_API_KEY ? undefined : keyFileOf(config) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new RuntimeEndpointError(
        `port ${config.RUNTIME_API_PORT} (local Runtime API) is already in use — is another \`npm start\` running? ` +
          'Stop it, choose another port with RUNTIME_API_PORT, or point RUNTIME_API_URL at an existing Runtime API.',
        { cause: error },
      );
    }
    throw error;
  }
}

const logToStderr = (line: string) => process.stderr.write(`${line}\n`);

const keyFileOf = (config: Config) => path.join(config.DATA_DIR, 'runtime-api.key');

const embeddedKey = (config: Config) => readOrCreateSecret(keyFileOf(config));
