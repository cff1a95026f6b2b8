// What isolation costs: time to ready and memory per runtime with sandboxes in namespaces
// (RUNTIME_ISOLATION=namespaces, the default) and without (off), side by side in one run,
// for the shell agent and the real OpenHands agent server (AGENTS=shell to skip the latter).
// Runs alternate between the two settings, so load on the machine falls on both alike.
// Run: npm run bench -- isolation   (READY_RUNS=7 UP_AT_ONCE=20 OPENHANDS_UP=2 to change sizes)
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentName } from '../src/local-runtime/agents/agent.js';
import type { IsolationMode } from '../src/local-runtime/isolation/jail.js';
import { createRuntimeApiServer } from '../src/local-runtime/server.js';
import type { RuntimeApiServer } from '../src/local-runtime/server.js';
import { PROJECT_TOOLS_DIR, resolveAgentServer } from '../src/tools/agent-server.js';
import { treeMemory } from './support/process-memory.js';
import { BENCH_KEY, startReady } from './support/runtime-calls.js';
import { mb, median, ms, table } from './support/stats.js';

const AGENTS = (process.env.AGENTS ?? 'shell,openhands').split(',') as AgentName[];
const READY_RUNS = { shell: Number(process.env.READY_RUNS ?? 7), openhands: 3 };
const UP_AT_ONCE = { shell: Number(process.env.UP_AT_ONCE ?? 20), openhands: Number(process.env.OPENHANDS_UP ?? 2) };
const MODES: IsolationMode[] = ['namespaces', 'off'];
const READY_TIMEOUT_MS = 240_000;

async function withServer<T>(agent: AgentName, mode: IsolationMode, fn: (server: RuntimeApiServer) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-isolation-'));
  const openhands = agent === 'openhands' ? { server: await resolveAgentServer({ toolsDir: PROJECT_TOOLS_DIR, log: (m) => console.log(m) }) } : undefined;
  const server = await createRuntimeApiServer({ apiKey: BENCH_KEY, dataDir, agent, openhands, isolation: { mode }, log: () => undefined });
  try {
    return await fn(server);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

interface Figures {
  readonly ready: number[];
  rssPerRuntime: number;
  pssPerRuntime: number;
  processes: number;
}

/** One start → ready, timed (each agent's first start in a server is a warm-up and not counted). */
async function timeOneStart(agent: AgentName, mode: IsolationMode, n: number): Promise<number> {
  return withServer(agent, mode, async (server) => {
    await startReady(server.url, `warm-${n}`, READY_TIMEOUT_MS); // the server's first start (the OpenHands one loads its imports from disk)
    const began = performance.now();
    await startReady(server.url, `ready-${n}`, READY_TIMEOUT_MS);
    return performance.now() - began;
  });
}

/** UP_AT_ONCE runtimes up at once, then each one's whole process tree read. */
async function memory(agent: AgentName, mode: IsolationMode, figures: Figures): Promise<void> {
  await withServer(agent, mode, async (server) => {
    const ids = await Promise.all(Array.from({ length: UP_AT_ONCE[agent] }, (_, i) => startReady(server.url, `mem-${i}`, READY_TIMEOUT_MS).then((runtime) => runtime.runtime_id)));
    await sleep(2_000); // start-up's last work
    const trees = await Promise.all(ids.map((id) => treeMemory(server, id)));
    const mean = (pick: (t: (typeof trees)[number]) => number) => trees.reduce((a, t) => a + pick(t), 0) / trees.length;
    figures.rssPerRuntime = mean((t) => t.rss);
    figures.pssPerRuntime = mean((t) => t.pss);
    figures.processes = mean((t) => t.processes);
  });
}

async function main(): Promise<void> {
  console.log(`${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(1)}; agents: ${AGENTS.join(', ')}\n`);
  for (const agent of AGENTS) {
    const figures = Object.fromEntries(MODES.map((mode) => [mode, { ready: [], rssPerRuntime: 0, pssPerRuntime: 0, processes: 0 } as Figures])) as Record<IsolationMode, Figures>;
    for (let n = 0; n < READY_RUNS[agent]; n++) {
      // Alternating, each in a fresh server, so neither setting gets the quieter moments.
      for (const mode of n % 2 === 0 ? MODES : [...MODES].reverse()) figures[mode].ready.push(await timeOneStart(agent, mode, n));
    }
    for (const mode of MODES) await memory(agent, mode, figures[mode]);
    const on = figures.namespaces;
    const off = figures.off;
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    console.log(`${agent} agent: ${READY_RUNS[agent]} starts per setting (median), ${UP_AT_ONCE[agent]} runtimes up at once for memory`);
    console.log(
      table(
        ['measure', 'isolated (namespaces)', 'not isolated (off)', 'isolated / not'],
        [
          ['start → ready, median', ms(median(on.ready)), ms(median(off.ready)), ratio(median(on.ready), median(off.ready))],
          ['start → ready, all runs', on.ready.map(ms).join(' '), off.ready.map(ms).join(' '), ''],
          ['memory per runtime, PSS', mb(on.pssPerRuntime), mb(off.pssPerRuntime), ratio(on.pssPerRuntime, off.pssPerRuntime)],
          ['memory per runtime, RSS', mb(on.rssPerRuntime), mb(off.rssPerRuntime), ratio(on.rssPerRuntime, off.rssPerRuntime)],
          ['processes per runtime', on.processes.toFixed(1), off.processes.toFixed(1), ''],
        ],
      ),
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
