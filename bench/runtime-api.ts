// Benchmark of the local Runtime API: time to ready and memory per runtime for both
// drivers, and message throughput into one sandbox through the ingress and directly.
// Run: npx tsx bench/runtime-api.ts   (RUNTIMES=100 MESSAGES=5000 SENDERS=128 to change sizes)
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Pool } from 'undici';
import type { DriverName } from '../src/local-runtime/drivers/driver.js';
import type { RuntimeApiServer } from '../src/local-runtime/server.js';
import { createRuntimeApiServer } from '../src/local-runtime/server.js';
import { treeMemory } from './support/process-memory.js';
import { BENCH_KEY, call, startReady } from './support/runtime-calls.js';

const RUNS = 5;
const RUNTIMES = Number(process.env.RUNTIMES ?? 100);
const MESSAGES = Number(process.env.MESSAGES ?? 5000);
const SENDERS = Number(process.env.SENDERS ?? 128);
// A full GC before each memory reading, without asking the caller for --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function withServer<T>(driver: DriverName, fn: (server: RuntimeApiServer) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-runtime-api-'));
  const server = await createRuntimeApiServer({ apiKey: BENCH_KEY, dataDir, driver, log: () => undefined });
  try {
    return await fn(server);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MB`;

/** Median wall time from POST /start to pod `ready`. */
function timeToReady(driver: DriverName): Promise<number> {
  return withServer(driver, async (server) => {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const began = performance.now();
      const runtime = await startReady(server.url, `ready-${i}`);
      times.push(performance.now() - began);
      await call('POST', `${server.url}/stop`, { runtime_id: runtime.runtime_id });
    }
    return median(times);
  });
}

interface Memory {
  readonly sandboxRss: number;
  readonly sandboxPss: number;
  readonly serverGrowth: number;
  readonly heapGrowth: number;
  readonly startAllMs: number;
  readonly stopAllMs: number;
}

/** Brings RUNTIMES runtimes up at once; measures sandbox and server memory per runtime. */
async function memory(driver: DriverName): Promise<Memory> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-runtime-api-'));
  const server = await createRuntimeApiServer({ apiKey: BENCH_KEY, dataDir, driver, log: () => undefined });
  try {
    gc();
    const before = process.memoryUsage().rss;
    const heapBefore = process.memoryUsage().heapUsed;
    const began = performance.now();
    const runtimes = await Promise.all(Array.from({ length: RUNTIMES }, (_, i) => startReady(server.url, `mem-${driver}-${i}`)));
    const startAllMs = performance.now() - began;
    await sleep(500);
    gc();
    const serverGrowth = (process.memoryUsage().rss - before) / RUNTIMES;
    const heapGrowth = (process.memoryUsage().heapUsed - heapBefore) / RUNTIMES;
    // Each sandbox's whole process tree (an isolated one is bubblewrap, its first process in the jail, the agent).
    const trees = driver === 'inproc' ? [] : await Promise.all(runtimes.map((runtime) => treeMemory(server, runtime.runtime_id)));
    const stopBegan = performance.now();
    await server.close();
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    return { sandboxRss: sum(trees.map((t) => t.rss)) / RUNTIMES, sandboxPss: sum(trees.map((t) => t.pss)) / RUNTIMES, serverGrowth, heapGrowth, startAllMs, stopAllMs: performance.now() - stopBegan };
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

interface Throughput {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

/** SENDERS concurrent senders post MESSAGES messages (run:false) into one conversation. */
async function throughput(baseUrl: string, sessionKey: string, total: number): Promise<Throughput> {
  const { origin, pathname } = new URL(baseUrl);
  const prefix = pathname.replace(/\/$/, '');
  const pool = new Pool(origin, { connections: SENDERS });
  const headers = { 'x-session-api-key': sessionKey, 'content-type': 'application/json' };
  const send = async (path: string, body: unknown) => {
    const res = await pool.request({ method: 'POST', path: `${prefix}${path}`, headers, body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`POST ${path} answered ${res.statusCode}: ${text}`);
    return text;
  };
  const conversation = JSON.parse(await send('/api/conversations', { agent: { llm: { model: 'none' } }, workspace: { kind: 'LocalWorkspace', working_dir: 'bench' } })) as { id: string };
  const message = { role: 'user', content: [{ type: 'text', text: 'echo benchmark' }], run: false };
  const latencies: number[] = [];
  let next = 0;
  const sender = async () => {
    while (next++ < total) {
      const began = performance.now();
      await send(`/api/conversations/${conversation.id}/events`, message);
      latencies.push(performance.now() - began);
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: SENDERS }, sender));
  const seconds = (performance.now() - began) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { perSecond: total / seconds, p50: latencies[Math.floor(total * 0.5)]!, p99: latencies[Math.floor(total * 0.99)]! };
}

/** Runs the Runtime API as its own process, so the ingress does not share the client's event loop. */
async function messageRates(): Promise<{ ingress: Throughput; direct: Throughput }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-runtime-api-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/local-runtime/main.ts'], {
    env: { ...process.env, RUNTIME_API_PORT: '0', RUNTIME_API_KEY: BENCH_KEY, DATA_DIR: dataDir, RUNTIME_DRIVER: 'process' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const base = /^Runtime API: (\S+)/.exec(String((await lines.next()).value))?.[1];
    if (!base) throw new Error('runtime-api did not print its URL');
    const runtime = await startReady(base, 'throughput');
    const direct = `http://${Object.keys(runtime.work_hosts)[0]}`;
    await throughput(runtime.url, runtime.session_api_key, 500); // warm-up
    await throughput(direct, runtime.session_api_key, 500);
    return {
      ingress: await throughput(runtime.url, runtime.session_api_key, MESSAGES),
      direct: await throughput(direct, runtime.session_api_key, MESSAGES),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const began = performance.now();
  process.stdout.write(`local Runtime API benchmark — node ${process.version}, ${cpus().length} CPUs\n\n`);
  const ready = { process: await timeToReady('process'), inproc: await timeToReady('inproc') };
  const mem = { inproc: await memory('inproc'), process: await memory('process') };
  const rates = await messageRates();
  const ms = (value: number) => `${value.toFixed(0)} ms`;
  const row = (cells: string[]) => `${cells[0]!.padEnd(44)}${cells.slice(1).map((c) => c.padStart(16)).join('')}\n`;
  let out = row(['measure', 'process', 'inproc', 'process/inproc']);
  out += row([`time to ready (median of ${RUNS})`, ms(ready.process), ms(ready.inproc), `${(ready.process / ready.inproc).toFixed(1)}x`]);
  const perRuntime = (m: Memory) => m.sandboxRss + m.serverGrowth;
  out += row([`memory per runtime, ${RUNTIMES} up (RSS)`, mb(perRuntime(mem.process)), mb(perRuntime(mem.inproc)), `${(perRuntime(mem.process) / perRuntime(mem.inproc)).toFixed(1)}x`]);
  out += row(['  of which sandbox process RSS / PSS', `${mb(mem.process.sandboxRss)} / ${mb(mem.process.sandboxPss)}`, '-', '']);
  out += row(['  of which server RSS growth', mb(mem.process.serverGrowth), mb(mem.inproc.serverGrowth), '']);
  out += row(['  server JS heap growth', mb(mem.process.heapGrowth), mb(mem.inproc.heapGrowth), '']);
  out += row([`start ${RUNTIMES} at once, all ready`, ms(mem.process.startAllMs), ms(mem.inproc.startAllMs), '']);
  out += row([`stop all ${RUNTIMES} (close)`, ms(mem.process.stopAllMs), ms(mem.inproc.stopAllMs), '']);
  out += `\n${row([`messages into one sandbox (${SENDERS} senders, ${MESSAGES})`, 'msgs/s', 'p50', 'p99'])}`;
  for (const [name, rate] of [['through the ingress', rates.ingress], ['direct (work_hosts)', rates.direct]] as const) {
    out += row([`  ${name}`, rate.perSecond.toFixed(0), ms(rate.p50), ms(rate.p99)]);
  }
  out += row(['  ingress / direct', `${(rates.ingress.perSecond / rates.direct.perSecond).toFixed(2)}x`, '', '']);
  process.stdout.write(`${out}\ntotal benchmark time ${((performance.now() - began) / 1000).toFixed(0)} s\n`);
}

await main();
