// `npm run runtime-api`: the local Runtime API on its own. Environment (minimal here; the
// project's central config will take it over):
//   RUNTIME_API_KEY   X-API-Key clients must send (generated and printed when unset)
//   RUNTIME_API_HOST  @default 127.0.0.1        RUNTIME_API_PORT  @default 8000
//   RUNTIME_DRIVER    process | inproc, @default process
//   DATA_DIR          @default ./data            RUNTIME_API_FAULTS  JSON, see faults.ts
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseFaults } from './faults.js';
import type { RuntimeApiServer, RuntimeApiServerOptions } from './server.js';
import { createRuntimeApiServer } from './server.js';

export interface EnvOptions {
  readonly options: RuntimeApiServerOptions;
  /** True when no RUNTIME_API_KEY was set and one was generated. */
  readonly generatedKey: boolean;
}

export function runtimeApiOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): EnvOptions {
  const driver = env.RUNTIME_DRIVER ?? 'process';
  if (driver !== 'process' && driver !== 'inproc') throw new Error(`RUNTIME_DRIVER must be "process" or "inproc", not ${JSON.stringify(driver)}`);
  const port = Number(env.RUNTIME_API_PORT ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`RUNTIME_API_PORT is not a port: ${env.RUNTIME_API_PORT}`);
  const apiKey = env.RUNTIME_API_KEY || randomBytes(24).toString('base64url');
  return {
    options: {
      apiKey,
      host: env.RUNTIME_API_HOST || '127.0.0.1',
      port,
      driver,
      dataDir: env.DATA_DIR || './data',
      faults: parseFaults(env.RUNTIME_API_FAULTS),
    },
    generatedKey: !env.RUNTIME_API_KEY,
  };
}

/** Starts the server and stops every sandbox on SIGINT/SIGTERM. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<RuntimeApiServer> {
  const { options, generatedKey } = runtimeApiOptionsFromEnv(env);
  const server = await createRuntimeApiServer(options);
  process.stdout.write(`Runtime API: ${server.url}\n`);
  if (generatedKey) process.stdout.write(`RUNTIME_API_KEY=${options.apiKey} (generated; set RUNTIME_API_KEY to choose one)\n`);
  const shutdown = (signal: NodeJS.Signals) => {
    process.stdout.write(`${signal}: stopping every runtime\n`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return server;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`runtime-api failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
