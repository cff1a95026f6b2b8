// The local Runtime API: the embedded default control plane. It speaks the hosted Runtime
// API's protocol (openhands-contract.md §1) and starts one local sandbox per session,
// reachable through the ingress at `<url>/sandboxes/<runtime_id>`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { HttpError, notFound, unauthorized, unprocessable } from '../http-server/errors.js';
import type { RouteContext, RouteHandler } from '../http-server/router.js';
import { Router, headerValue, secretsEqual } from '../http-server/router.js';
import { runtimeIdRequestSchema, startRuntimeRequestSchema } from '../runtime-api/runtime-api-schemas.js';
import type { AgentOptions } from './agents/launchers.js';
import { createLaunchers } from './agents/launchers.js';
import type { DriverName, LogFn } from './drivers/driver.js';
import { InprocDriver } from './drivers/inproc.js';
import { ProcessDriver } from './drivers/process.js';
import type { IsolationOptions } from './isolation/isolation.js';
import { createJail } from './isolation/isolation.js';
import type { FaultOptions } from './faults.js';
import { FaultInjector, endpointKey } from './faults.js';
import { Ingress } from './ingress.js';
import { listView, runtimeView, sessionView, startView } from './registry.js';
import type { LocalRuntime } from './runtime.js';
import { RuntimeService } from './service.js';

/** `agent` and `openhands` (AgentOptions) choose what each runtime runs; see docs/local-runtime.md. */
export interface RuntimeApiServerOptions extends AgentOptions {
  /** How the process driver walls its sandboxes in (the inproc driver cannot). @default namespaces, host network */
  readonly isolation?: IsolationOptions;
  /** Required `X-API-Key` on every route but `GET /health`. */
  readonly apiKey: string;
  /** Runtime workspaces live in `<dataDir>/workspaces/<session_id>`. */
  readonly dataDir: string;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** Base of the runtime URLs handed out, when clients reach this server by another name. @default the listening address */
  readonly publicUrl?: string;
  /** @default 'process' */
  readonly driver?: DriverName;
  /** Per-command timeout inside the sandboxes. @default the sandbox's own default */
  readonly commandTimeoutMs?: number;
  /** Restarts of a crashing sandbox before it is left in `crashloopbackoff`. @default 3 */
  readonly maxRestarts?: number;
  /** Between SIGTERM and SIGKILL when stopping a sandbox. @default 5 s */
  readonly stopGraceMs?: number;
  /** How long stopped runtimes stay visible in /list and /sessions. @default 10 min */
  readonly stoppedRetentionMs?: number;
  /** Largest accepted control-plane request body. @default 1 MiB */
  readonly maxBodyBytes?: number;
  /** Injected faults. @default none */
  readonly faults?: FaultOptions;
  /** Server and sandbox log lines (never carries keys or `environment` values). @default stderr */
  readonly log?: LogFn;
}

export interface RuntimeApiServer {
  readonly url: string;
  readonly port: number;
  /** The OS process id of a runtime's sandbox (process driver), for tests and measurements. */
  sandboxPid(runtimeId: string): number | undefined;
  /** Stops every sandbox and the server; no child process survives it. */
  close(): Promise<void>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function createRuntimeApiServer(options: RuntimeApiServerOptions): Promise<RuntimeApiServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const faults = new FaultInjector(options.faults);
  const inproc = options.driver === 'inproc';
  if (inproc && options.agent === 'openhands') throw new Error('the inproc driver runs only the shell agent; use the process driver for openhands');
  const service = new RuntimeService({
    driver: inproc ? new InprocDriver(log) : await processDriver(options, log),
    defaultAgent: options.agent ?? 'shell',
    agentFromRequest: !inproc,
    faults,
    dataDir: options.dataDir,
    maxRestarts: options.maxRestarts ?? 3,
    stopGraceMs: options.stopGraceMs ?? 5000,
    stoppedRetentionMs: options.stoppedRetentionMs ?? 10 * 60_000,
    commandTimeoutMs: options.commandTimeoutMs,
    log,
  });
  const state = { closing: false };
  const router = controlPlane(options, service, faults, state, log);
  const ingress = new Ingress({ lookup: (id) => service.registry.get(id), faults, apiKey: options.apiKey });
  const server = createServer((req, res) => (ingress.matches(req.url) ? ingress.handle(req, res) : router.listener(req, res)));
  server.on('upgrade', (req, socket, head) => (ingress.matches(req.url) ? ingress.upgrade(req, socket, head) : socket.destroy()));
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => ok());
  });
  // Sandboxes lead their own process groups: nothing else ends them if this process dies.
  const killAll = () => service.killAllSync();
  process.on('exit', killAll);
  const { port } = server.address() as AddressInfo;
  service.baseUrl = (options.publicUrl ?? `http://${urlHost(options.host ?? '127.0.0.1')}:${port}`).replace(/\/+$/, '');
  log(`runtime-api listening on ${service.baseUrl} (${options.driver ?? 'process'} driver, ${options.agent ?? 'shell'} agent)`);

  const shutdown = async () => {
    state.closing = true;
    faults.release();
    const closed = new Promise<void>((ok) => server.close(() => ok()));
    await service.stopAll();
    ingress.closeTunnels();
    server.closeAllConnections();
    await closed;
    process.off('exit', killAll);
  };
  let closing: Promise<void> | undefined;
  return {
    url: service.baseUrl,
    port,
    sandboxPid: (runtimeId) => service.registry.get(runtimeId)?.pid,
    close: () => (closing ??= shutdown()),
  };
}

/** The Runtime API routes (contract §1.2), behind X-API-Key and the injected request faults. */
function controlPlane(options: RuntimeApiServerOptions, service: RuntimeService, faults: FaultInjector, state: { closing: boolean }, log: LogFn): Router {
  const { registry } = service;
  const router = new Router({
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    onInternalError: (errorId, error) => log(`runtime-api internal error ${errorId}: ${String(error)}`),
    before: (req, path) => {
      if (path !== '/health' && !secretsEqual(headerValue(req, 'x-api-key'), options.apiKey)) throw unauthorized();
    },
  });
  const on = (method: string, pattern: string, handler: RouteHandler) =>
    router.on(method, pattern, async (ctx) => {
      await faults.onRequest(endpointKey(method, pattern));
      return handler(ctx);
    });
  const known = (runtimeId: string) => registry.get(runtimeId) ?? raise(notFound(`runtime ${runtimeId} not found`));
  const act = (action: (runtime: LocalRuntime) => void | Promise<void>) => async (ctx: RouteContext) => {
    const runtime = known((await ctx.body(runtimeIdRequestSchema)).runtime_id);
    await action(runtime);
    return { runtime_id: runtime.runtimeId, status: runtime.status };
  };

  on('GET', '/health', () => ({ status: 'ok' }));
  on('GET', '/sessions/:session_id', (ctx) => sessionView(registry.forSession(ctx.params.session_id!) ?? raise(notFound('session not found'))));
  on('GET', '/runtime/:runtime_id', (ctx) => runtimeView(known(ctx.params.runtime_id!)));
  on('GET', '/list', () => {
    const runtimes = registry.all().map(listView);
    return { runtimes, total: runtimes.length };
  });
  on('GET', '/registry_prefix', () => ({ registry_prefix: 'local' }));
  on('GET', '/image_exists', (ctx) => {
    ctx.queryAs(z.object({ image: z.string().min(1) }));
    return { exists: true }; // any image runs, as one of the local agents
  });
  on('POST', '/start', async (ctx) => {
    const body = await ctx.body(startRuntimeRequestSchema);
    const badNames = Object.keys(body.environment ?? {}).filter((name) => !ENV_NAME.test(name));
    if (badNames.length > 0) throw unprocessable([{ loc: ['environment'], msg: `invalid variable names: ${badNames.join(', ')}` }]);
    if (state.closing) throw new HttpError(503, 'server is shutting down');
    return startView(service.start(body));
  });
  on('POST', '/pause', act((runtime) => runtime.pause()));
  on('POST', '/resume', act((runtime) => runtime.resume()));
  on('POST', '/stop', act((runtime) => runtime.stop()));
  return router;
}

/** The process driver, its agents and its jail: a machine that cannot isolate stops us here. */
async function processDriver(options: RuntimeApiServerOptions, log: LogFn): Promise<ProcessDriver> {
  const { dataDir } = options;
  const [launchers, jail] = await Promise.all([
    createLaunchers(options, log, join(dataDir, 'agents')),
    createJail(options.isolation ?? {}, join(dataDir, 'jail'), log),
  ]);
  return new ProcessDriver({ log, launchers, jail, ledgerFile: join(dataDir, 'sandbox-groups.json') });
}

function raise(error: HttpError): never {
  throw error;
}

/** The host part of our own URL: a wildcard bind is reached through loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
