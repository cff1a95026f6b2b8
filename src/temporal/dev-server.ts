// The embedded Temporal dev server: `temporal server start-dev` with a SQLite file in
// the data folder (state survives restarts), the Web UI, and the project's search
// attributes registered. Readiness is checked by talking to the frontend until the
// namespace answers, with a generous limit: a cold start on a small machine can take
// longer than the SDK's own 5 s wait.
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import type { SearchAttributeKey, SearchAttributeType } from '@temporalio/common/lib/search-attributes.js';
import { spawnTethered } from '../process/tether.js';
import type { TetheredChild } from '../process/tether.js';

export interface DevServerOptions {
  /** Path of the `temporal` executable. */
  readonly executable: string;
  /** SQLite file; undefined keeps everything in memory (tests). */
  readonly dbFile?: string;
  /** @default 7233 */
  readonly port?: number;
  /** Web UI port; undefined runs headless. */
  readonly uiPort?: number;
  /** @default '127.0.0.1' */
  readonly ip?: string;
  /** @default 'default' */
  readonly namespace?: string;
  readonly searchAttributes?: readonly SearchAttributeKey<SearchAttributeType>[];
  /** Remote codec endpoint the Web UI decodes payloads with (`--ui-codec-endpoint`). */
  readonly uiCodecEndpoint?: string;
  /** Extra `--dynamic-config-value KEY=JSON` settings, e.g. a low continue-as-new threshold in tests. */
  readonly dynamicConfig?: Readonly<Record<string, unknown>>;
  /** @default 60_000 */
  readonly startTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface RunningDevServer {
  readonly address: string;
  readonly uiUrl: string | undefined;
  readonly namespace: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export class DevServerStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DevServerStartError';
  }
}

const SEARCH_ATTRIBUTE_TYPE_NAMES: Record<string, string> = {
  TEXT: 'Text', KEYWORD: 'Keyword', INT: 'Int', DOUBLE: 'Double', BOOL: 'Bool', DATETIME: 'Datetime', KEYWORD_LIST: 'KeywordList',
};

export async function startDevServer(options: DevServerOptions): Promise<RunningDevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const namespace = options.namespace ?? 'default';
  await assertPortFree(ip, port, 'Temporal gRPC', 'TEMPORAL_PORT');
  if (options.uiPort !== undefined) await assertPortFree(ip, options.uiPort, 'Temporal UI', 'TEMPORAL_UI_PORT');
  if (options.dbFile) await mkdir(path.dirname(options.dbFile), { recursive: true });

  const child = spawnTethered(options.executable, buildArgs({ ...options, ip, port, namespace }));
  const output = collectOutput(child, options.log);
  const address = `${ip}:${port}`;
  try {
    await waitUntilServing(address, namespace, child, options.startTimeoutMs ?? 60_000, output);
  } catch (error) {
    await child.stop(2_000);
    throw error;
  }
  return {
    address,
    namespace,
    pid: child.process.pid,
    uiUrl: options.uiPort === undefined ? undefined : `http://localhost:${options.uiPort}`,
    stop: async () => {
      await child.stop();
    },
  };
}

function buildArgs(options: DevServerOptions & { ip: string; port: number; namespace: string }): string[] {
  const args = ['server', 'start-dev', '--ip', options.ip, '--port', String(options.port), '--namespace', options.namespace];
  args.push('--log-level', 'warn', '--log-format', 'json');
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));
  if (options.uiCodecEndpoint && options.uiPort !== undefined) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  for (const key of options.searchAttributes ?? []) {
    args.push('--search-attribute', `${key.name}=${SEARCH_ATTRIBUTE_TYPE_NAMES[key.type] ?? key.type}`);
  }
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return args;
}

/** Keeps the last lines of the server's output so a failed start can say why. */
function collectOutput(child: TetheredChild, log?: (line: string) => void): string[] {
  const lines: string[] = [];
  const take = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      lines.push(line);
      if (lines.length > 50) lines.shift();
      log?.(line);
    }
  };
  child.process.stdout.on('data', take);
  child.process.stderr.on('data', take);
  return lines;
}

/** Resolves once the server answers for the namespace; the connection is closed either way. */
async function answers(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } finally {
    await connection.close();
  }
}

async function waitUntilServing(address: string, namespace: string, child: TetheredChild, timeoutMs: number, output: string[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let ended = false;
  void child.exited.then(() => (ended = true));
  while (Date.now() < deadline) {
    if (ended) {
      throw new DevServerStartError(`temporal server exited during start-up:\n${output.slice(-10).join('\n')}`);
    }
    // One probe may take long (the client retries an unavailable server by itself), so the deadline bounds it too.
    const timer = new AbortController();
    const answered = await Promise.race([
      answers(address, namespace).then(
        () => true,
        (error: unknown) => {
          lastError = error;
          return false;
        },
      ),
      sleep(Math.max(0, deadline - Date.now()), false, { signal: timer.signal }).catch(() => false),
    ]);
    timer.abort();
    if (answered) return;
    await sleep(100);
  }
  const tail = output.slice(-10).join('\n') || '(it printed nothing)';
  throw new DevServerStartError(
    `temporal server at ${address} did not answer within ${timeoutMs / 1000} s; on a slow or busy machine give it longer with TEMPORAL_START_TIMEOUT (e.g. TEMPORAL_START_TIMEOUT=180s). Its last output:\n${tail}`,
    { cause: lastError },
  );
}

async function assertPortFree(ip: string, port: number, what: string, variable: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new DevServerStartError(
          error.code === 'EADDRINUSE'
            ? `port ${port} (${what}) is already in use on ${ip} — is another \`npm start\` or Temporal server running? ` +
                `Stop it, choose another port with ${variable}, or use that server with TEMPORAL_ADDRESS.`
            : `cannot bind ${ip}:${port} for ${what}: ${error.message}`,
        ),
      );
    });
    probe.listen(port, ip, () => probe.close(() => resolve()));
  });
}

/** A free TCP port on the loopback interface (bind :0, read, release). */
export async function freePort(ip = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, ip, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
