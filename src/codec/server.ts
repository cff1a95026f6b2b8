// The codec server: Temporal's remote codec protocol (`POST …/decode`, `POST …/encode`,
// payloads as proto JSON: `{"payloads":[{"metadata":{"k":"<base64>"},"data":"<base64>"}]}`)
// over the project's payload codec, so the Web UI and `temporal --codec-endpoint` can show
// decrypted payloads to an authorised operator.
//
// Authorization: `Authorization: Bearer <token>`, or the token as the path segment before
// /decode or /encode (`http://127.0.0.1:8234/<token>/decode`). The second form exists
// because a Web UI without single sign-on has no way to send a header: `temporal server
// start-dev --ui-codec-endpoint` takes only a URL. The protocol lets the endpoints sit at
// any depth, so both forms are ordinary codec endpoints to a client.
//
// Browsers: a request whose Origin is not an allowed one is refused (403) before it is
// read, preflight included, so a page on another site can neither read nor use it.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { HttpError, badRequest } from '../http-server/errors.js';
import { Router, headerValue, secretsEqual, sendJson } from '../http-server/router.js';
import { PayloadDecryptionError, UnknownEncryptionKeyError } from './encryption-codec.js';

export interface CodecServerOptions {
  readonly codec: PayloadCodec;
  /** Bearer token every request must carry. */
  readonly token: string;
  /** Browser origins allowed to call, e.g. http://localhost:8233; requests with another Origin get 403. */
  readonly allowedOrigins: readonly string[];
  /** @default '127.0.0.1' (loopback: only this machine reaches it) */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  readonly log?: (line: string) => void;
}

export interface CodecServer {
  /** Base URL for clients that send the Authorization header (`temporal --codec-endpoint … --codec-auth 'Bearer …'`). */
  readonly url: string;
  /** Base URL with the token in its path, for a UI that cannot send a header. Itself a secret. */
  readonly tokenUrl: string;
  close(): Promise<void>;
}

/** A history page can hold many payloads of up to 2 MiB each. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const ALLOWED_HEADERS = 'authorization, content-type, x-namespace';

// Proto JSON leaves out an empty repeated field: a Payloads with none arrives as `{}` (the
// CLI sends one for an event without arguments, and retries a refusal until it times out).
const payloadsSchema = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), z.string().base64()).nullish(),
      data: z.string().base64().nullish(),
    }),
  ).default([]),
});
type JsonPayload = z.output<typeof payloadsSchema>['payloads'][number];

export async function createCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const origins = new Set(options.allowedOrigins);
  const router = new Router({
    maxBodyBytes: MAX_BODY_BYTES,
    before: (req) => authorize(req, options.token),
    onInternalError: (errorId, error) => options.log?.(`codec server error ${errorId}: ${error instanceof Error ? error.name : 'unknown'}`),
  });
  const convert = (direction: 'encode' | 'decode') => async (ctx: { body: (s: typeof payloadsSchema) => Promise<z.output<typeof payloadsSchema>> }) => {
    const { payloads } = await ctx.body(payloadsSchema);
    try {
      const converted = await options.codec[direction](payloads.map(fromJson));
      return { payloads: converted.map(toJson) };
    } catch (error) {
      // These name key IDs and what is wrong, never key material: safe to tell the operator.
      if (error instanceof UnknownEncryptionKeyError || error instanceof PayloadDecryptionError) throw badRequest(error.message);
      throw error;
    }
  };
  for (const prefix of ['', '/:token']) {
    router.on('POST', `${prefix}/decode`, convert('decode'));
    router.on('POST', `${prefix}/encode`, convert('encode'));
  }

  const server = createServer((req, res) => {
    if (!allowOrigin(req, res, origins)) return;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'POST, OPTIONS', 'access-control-allow-headers': ALLOWED_HEADERS, 'access-control-max-age': '600' });
      res.end();
      return;
    }
    router.listener(req, res);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    tokenUrl: `${url}/${encodeURIComponent(options.token)}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sets the CORS headers for an allowed Origin; answers 403 (and returns false) for any other. No Origin: not a browser, nothing to check. */
function allowOrigin(req: IncomingMessage, res: ServerResponse, origins: ReadonlySet<string>): boolean {
  const origin = headerValue(req, 'origin');
  res.setHeader('vary', 'Origin');
  if (origin === undefined) return true;
  if (!origins.has(origin)) {
    sendJson(res, 403, { detail: `origin ${origin} may not call this codec server (allowed: ${[...origins].join(', ') || 'none'}); see CODEC_SERVER_CORS_ORIGINS` });
    return false;
  }
  res.setHeader('access-control-allow-origin', origin);
  if (headerValue(req, 'access-control-request-private-network') === 'true') res.setHeader('access-control-allow-private-network', 'true');
  return true;
}

function authorize(req: IncomingMessage, token: string): void {
  const header = headerValue(req, 'authorization');
  const bearer = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const segments = new URL(req.url ?? '/', 'http://localhost').pathname.split('/').filter(Boolean);
  const inPath = segments.length === 2 ? decodeURIComponent(segments[0] as string) : undefined;
  if (secretsEqual(bearer, token) || secretsEqual(inPath, token)) return;
  throw new HttpError(401, header || inPath ? 'the codec server token is wrong' : 'the codec server needs a token: Authorization: Bearer <CODEC_SERVER_TOKEN>', {
    headers: { 'www-authenticate': 'Bearer' },
  });
}

function fromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
    data: Buffer.from(data ?? '', 'base64'),
  };
}

function toJson({ metadata, data }: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
  };
}
