// The codec server as configuration sets it up: beside `npm start` (where the embedded
// Web UI is pointed at it) and as `npm run codec-server` for a UI run elsewhere.
import path from 'node:path';
import type { PayloadCodec } from '@temporalio/common';
import type { Config } from '../config.js';
import { readOrCreateSecret } from '../secret-file.js';
import { createCodecServer } from './server.js';
import type { CodecServer } from './server.js';

type CodecServerConfig = Pick<Config, 'CODEC_SERVER_HOST' | 'CODEC_SERVER_PORT' | 'CODEC_SERVER_TOKEN' | 'CODEC_SERVER_CORS_ORIGINS' | 'TEMPORAL_UI_PORT' | 'DATA_DIR'>;

export const tokenFileOf = (config: Pick<Config, 'DATA_DIR'>) => path.join(config.DATA_DIR, 'codec-server.token');

/** The embedded Web UI's origins: the dev server prints localhost, and 127.0.0.1 reaches it too. */
export const embeddedUiOrigins = (uiPort: number) => [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`];

export class CodecServerStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodecServerStartError';
  }
}

export async function startConfiguredCodecServer(config: CodecServerConfig, codec: PayloadCodec, log?: (line: string) => void): Promise<CodecServer & { token: string }> {
  const token = config.CODEC_SERVER_TOKEN ?? (await readOrCreateSecret(tokenFileOf(config), 32));
  try {
    const server = await createCodecServer({
      codec,
      token,
      allowedOrigins: config.CODEC_SERVER_CORS_ORIGINS ?? embeddedUiOrigins(config.TEMPORAL_UI_PORT),
      host: config.CODEC_SERVER_HOST,
      port: config.CODEC_SERVER_PORT,
      log,
    });
    return { ...server, token };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CodecServerStartError(
        `port ${config.CODEC_SERVER_PORT} (codec server) is already in use on ${config.CODEC_SERVER_HOST} — is another \`npm start\` running? Stop it or choose another port with CODEC_SERVER_PORT.`,
        { cause: error },
      );
    }
    throw error;
  }
}
