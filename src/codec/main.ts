// `npm run codec-server`: the codec server on its own, for a Temporal Web UI or CLI that
// runs apart from `npm start` (docs/encryption.md). Same keys and token variables as the
// worker; prints where it listens, never the token when it was given in the environment.
import { loadConfigOrExit } from '../config.js';
import { serverLineLog } from '../observability/logging.js';
import { payloadCodecFrom } from './data-converter.js';
import { startConfiguredCodecServer, tokenFileOf } from './embedded.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const codec = await payloadCodecFrom(config);
  if (!codec) throw new Error('PAYLOAD_ENCRYPTION=off: there is nothing for a codec server to decrypt');
  const log = serverLineLog(config, 'codec-server');
  const server = await startConfiguredCodecServer(config, codec, config.LOG_FORMAT === 'json' ? log : (line) => console.error(line));
  log(`codec server: ${server.url} (POST /decode, /encode; Authorization: Bearer <token>)`);
  if (!config.CODEC_SERVER_TOKEN) log(`token: in ${tokenFileOf(config)}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`codec server failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
