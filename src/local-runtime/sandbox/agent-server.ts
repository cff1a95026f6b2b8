// The sandbox agent server: the data plane inside each local runtime. It speaks the
// agent-server subset of the OpenHands contract (openhands-contract.md §3), REST and the
// event socket, and runs the built-in `shell` agent, which executes each user message as a
// bash command.
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { unauthorized } from '../../http-server/errors.js';
import { Router, headerValue, reply, secretsEqual } from '../../http-server/router.js';
import type { RouteContext } from '../../http-server/router.js';
import {
  eventCountQuerySchema,
  eventSearchQuerySchema,
  executionStatusSchema,
  sendMessageRequestSchema,
  startConversationRequestSchema,
} from '../../runtime-api/agent-server-schemas.js';
import { ConversationService } from './conversation-service.js';
import { EventSockets } from './event-socket.js';

export interface AgentServerOptions {
  /** Accepted X-Session-API-Key values; empty list = no auth. */
  readonly sessionApiKeys: readonly string[];
  /** Folder in which every conversation gets a workspace subfolder (created if missing). */
  readonly workspaceDir: string;
  /** @default 120_000 */ readonly commandTimeoutMs?: number;
  /** Cap on captured stdout+stderr per command; the rest is dropped with a marker. @default 64 KiB */
  readonly outputCapBytes?: number;
  /** 'inherit': commands stay in this process's process group (a separate sandbox process: SIGSTOP on the group freezes them too).
   *  'own': each command gets its own process group (many sandboxes in one process; use signalCommands). @default 'inherit' */
  readonly commandProcessGroup?: 'inherit' | 'own';
  /** @default 1 MiB */ readonly maxBodyBytes?: number;
  /** @default '127.0.0.1' */ readonly host?: string;
  /** @default 0 */ readonly port?: number;
}

export interface RunningAgentServer {
  readonly port: number;
  readonly url: string; // http://host:port
  /** Sends a signal to every running command (and its descendants): used to pause/resume in-process sandboxes. */
  signalCommands(signal: NodeJS.Signals): void;
  /** Stops accepting, kills every running command, frees every conversation. */
  close(): Promise<void>;
}

const countQuerySchema = z.object({ status: executionStatusSchema.optional() });

export async function startAgentServer(options: AgentServerOptions): Promise<RunningAgentServer> {
  const host = options.host ?? '127.0.0.1';
  const service = new ConversationService({
    workspaceDir: options.workspaceDir,
    commandTimeoutMs: positive('commandTimeoutMs', options.commandTimeoutMs ?? 120_000),
    outputCapBytes: positive('outputCapBytes', options.outputCapBytes ?? 64 * 1024),
    ownProcessGroup: (options.commandProcessGroup ?? 'inherit') === 'own',
  });
  await mkdir(options.workspaceDir, { recursive: true });
  const keys = [...options.sessionApiKeys];
  const router = new Router({
    maxBodyBytes: positive('maxBodyBytes', options.maxBodyBytes ?? 1024 * 1024),
    before: (req, path) => {
      if (!path.startsWith('/api/')) return;
      if (keys.length > 0 && !isAuthorized(req, keys)) throw unauthorized();
      service.touch();
    },
    onInternalError: (errorId, error) => console.error(`agent-server: internal error ${errorId}`, error),
  });
  addRoutes(router, service);
  const sockets = new EventSockets(service, keys);
  const server = createServer(router.listener);
  server.on('upgrade', sockets.upgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    sockets.closeAll();
    await service.closeAll();
    server.closeAllConnections();
    await closed;
  };
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    signalCommands: (signal) => service.signalCommands(signal),
    close: () => (closing ??= close()),
  };
}

function addRoutes(router: Router, service: ConversationService): void {
  const ok = { success: true };
  const id = (ctx: RouteContext): string => ctx.params['id'] ?? '';
  router
    .on('GET', '/alive', () => ({ status: 'ok' }))
    .on('GET', '/health', () => ({ status: 'ok' }))
    .on('GET', '/server_info', () => service.serverInfo())
    .on('POST', '/api/conversations', async (ctx) => {
      const { created, info } = await service.start(await ctx.body(startConversationRequestSchema));
      return created ? reply(201, info) : info;
    })
    // Registered before `:id`, which would otherwise match "count".
    .on('GET', '/api/conversations/count', (ctx) => service.count(ctx.queryAs(countQuerySchema).status))
    .on('GET', '/api/conversations/:id', (ctx) => service.info(id(ctx)))
    // Unknown ids get 404 here and on pause, where the real server answers 400 (its OpenAPI says 404).
    .on('DELETE', '/api/conversations/:id', async (ctx) => {
      await service.delete(id(ctx));
      return ok;
    })
    .on('POST', '/api/conversations/:id/events', async (ctx) => {
      const message = await ctx.body(sendMessageRequestSchema);
      service.sendMessage(id(ctx), message);
      return ok;
    })
    .on('GET', '/api/conversations/:id/events/search', (ctx) => service.searchEvents(id(ctx), ctx.queryAs(eventSearchQuerySchema)))
    .on('GET', '/api/conversations/:id/events/count', (ctx) => service.countEvents(id(ctx), ctx.queryAs(eventCountQuerySchema)))
    .on('POST', '/api/conversations/:id/run', (ctx) => {
      service.run(id(ctx));
      return ok;
    })
    .on('POST', '/api/conversations/:id/pause', (ctx) => {
      service.pause(id(ctx));
      return ok;
    })
    .on('POST', '/api/conversations/:id/interrupt', (ctx) => {
      service.interrupt(id(ctx));
      return ok;
    });
}

function isAuthorized(req: IncomingMessage, keys: readonly string[]): boolean {
  const given = headerValue(req, 'x-session-api-key');
  // Compare against every key, so the time taken does not tell which one matched.
  return keys.map((key) => secretsEqual(given, key)).includes(true);
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`agent server option ${name} must be a positive number, got ${value}`);
  return value;
}
