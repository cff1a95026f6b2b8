// `npm run runtime-api`: the local Runtime API on its own, configured like the rest of
// the project (RUNTIME_API_KEY, RUNTIME_API_HOST, RUNTIME_API_PORT, RUNTIME_DRIVER,
// RUNTIME_API_FAULTS, DATA_DIR; see the README). Without RUNTIME_API_KEY it uses the key
// kept in the data folder — the same one `npm start` and the CLI use — and prints it.
import { pathToFileURL } from 'node:url';
import { loadConfigOrExit } from '../config.js';
import { serverLineLog } from '../observability/logging.js';
import { startLocalRuntimeApi } from '../runtime-endpoint.js';
import type { RuntimeApiServer } from './server.js';

/** Starts the server and stops every sandbox on SIGINT/SIGTERM. */
export async function main(): Promise<RuntimeApiServer> {
  const config = loadConfigOrExit();
  const log = serverLineLog(config, 'runtime-api');
  const { server, apiKey, keyFile } = await startLocalRuntimeApi(config, config.LOG_FORMAT === 'json' ? log : undefined);
  log(`Runtime API: ${server.url}`);
  if (keyFile) log(`RUNTIME_API_KEY=${apiKey} (generated once, kept in ${keyFile}; set RUNTIME_API_KEY to choose one)`);
  const shutdown = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping every runtime`);
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
