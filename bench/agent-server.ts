// Benchmark of the real OpenHands agent server in local runtimes, beside the built-in shell
// agent, through the local Runtime API (process driver): time to ready (cold: the run's first
// start of that agent; warm: the next ones, one at a time), resume to /alive, memory of each
// runtime's whole process tree (the agent server, its tmux servers and shells) idle and after
// one conversation that ran one terminal command, and stop time. The OpenHands agent talks to
// the scripted LLM (src/llm/scripted-llm.ts), so no network and no key are needed.
// Run: npm run bench -- agent-server   (or npx tsx bench/agent-server.ts)
// The OpenHands server is found like `npm start` finds it (OPENHANDS_AGENT_SERVER_PATH, PATH,
// .tools/), and installed into .tools/ the first time (minutes, before any timing starts).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { textOf } from '../src/llm/script.js';
import { startScriptedLlm, SCRIPTED_MODEL } from '../src/llm/scripted-llm.js';
import type { ScriptedLlm } from '../src/llm/scripted-llm.js';
import type { AgentName } from '../src/local-runtime/agents/agent.js';
import { tmuxTmpdir } from '../src/local-runtime/agents/openhands.js';
import { createRuntimeApiServer } from '../src/local-runtime/server.js';
import type { RuntimeApiServer } from '../src/local-runtime/server.js';
import { listProcs, perRuntime, runtimeProcesses, treeMemory } from './support/process-memory.js';
import type { TreeMemory } from './support/process-memory.js';
import { PROJECT_TOOLS_DIR, resolveAgentServer } from '../src/tools/agent-server.js';
import type { ResolvedAgentServer } from '../src/tools/agent-server.js';
import { mb, median, ms, table } from './support/stats.js';

const KEY = 'bench-key';
const HEADERS = { 'x-api-key': KEY, 'content-type': 'application/json' };
const WARM_STARTS = 3; // also the runtimes up at once for the memory figures
const RESUMES = 5;
const READY_TIMEOUT_MS = 180_000;
const TURN_TIMEOUT_MS = 90_000;
const SETTLE_MS = 2_000; // before a memory reading: let start-up or the turn's last work finish
const POLL_MS = 10;

// ---------------------------------------------------------------- HTTP

interface Answer<T> {
  status: number;
  body: T;
}

async function http<T = Record<string, unknown>>(method: string, url: string, body?: unknown, headers: Record<string, string> = HEADERS): Promise<Answer<T>> {
  const res = await request(url, {
    method: method as 'GET',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.statusCode, body: parsed as T };
}

async function ok<T = Record<string, unknown>>(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
  const answer = await http<T>(method, url, body, headers);
  if (answer.status >= 300) throw new Error(`${method} ${url} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

// ---------------------------------------------------------------- runtimes

interface Runtime {
  readonly runtimeId: string;
  readonly sessionId: string;
  readonly url: string;
  readonly sessionKey: string;
}

/** Every runtime this run started, for the sweep at the end. */
const startedRuntimes: Array<{ runtimeId: string; pid: number | undefined }> = [];

/** POST /start, then GET /runtime/{id} until pod_status `ready`. */
async function startReady(server: RuntimeApiServer, sessionId: string): Promise<{ runtime: Runtime; ms: number }> {
  const began = performance.now();
  const started = await ok<{ runtime_id: string }>('POST', `${server.url}/start`, { image: 'bench', session_id: sessionId });
  const entry = { runtimeId: started.runtime_id, pid: undefined as number | undefined };
  startedRuntimes.push(entry);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    entry.pid ??= server.sandboxPid(started.runtime_id);
    const info = await ok<{ pod_status: string; status: string; restart_reasons?: string[] }>('GET', `${server.url}/runtime/${started.runtime_id}`);
    if (info.pod_status === 'ready') break;
    if (info.status === 'error' || info.pod_status === 'crashloopbackoff' || (info.restart_reasons?.length ?? 0) > 0) {
      throw new Error(`runtime ${started.runtime_id} failed to start: ${JSON.stringify(info)}`);
    }
    if (Date.now() > deadline) throw new Error(`runtime ${started.runtime_id} was not ready within ${READY_TIMEOUT_MS / 1000} s`);
    await sleep(POLL_MS);
  }
  const elapsed = performance.now() - began;
  entry.pid ??= server.sandboxPid(started.runtime_id);
  const session = await ok<{ url: string; session_api_key: string }>('GET', `${server.url}/sessions/${sessionId}`);
  return { runtime: { runtimeId: started.runtime_id, sessionId, url: session.url, sessionKey: session.session_api_key }, ms: elapsed };
}

/** POST /pause, then POST /resume → GET <runtime url>/alive answers 200. Times both. */
async function pauseResume(server: RuntimeApiServer, runtime: Runtime): Promise<{ pauseMs: number; resumeMs: number }> {
  let began = performance.now();
  await ok('POST', `${server.url}/pause`, { runtime_id: runtime.runtimeId });
  const pauseMs = performance.now() - began;
  const paused = await http('GET', `${runtime.url}/alive`, undefined, {});
  if (paused.status === 200) throw new Error(`runtime ${runtime.runtimeId} still answers /alive while paused`);
  await sleep(100);
  began = performance.now();
  await ok('POST', `${server.url}/resume`, { runtime_id: runtime.runtimeId });
  const deadline = Date.now() + 30_000;
  while ((await http('GET', `${runtime.url}/alive`, undefined, {})).status !== 200) {
    if (Date.now() > deadline) throw new Error(`runtime ${runtime.runtimeId} did not answer /alive within 30 s of its resume`);
    await sleep(POLL_MS);
  }
  return { pauseMs, resumeMs: performance.now() - began };
}

/** One conversation, one user message that makes the agent run one terminal command, until `finished`. */
interface Turn {
  readonly createMs: number;
  readonly turnMs: number;
  /** OpenHands: the terminal observation ended on the tool's no-change timeout (it never saw its prompt come back). */
  readonly noChangeTimeout: boolean;
  /** The command's output (`hi` on a line of its own) reached the observation, or the shell agent's reply. */
  readonly sawOutput: boolean;
}

async function converse(runtime: Runtime, agent: AgentName, llm: ScriptedLlm): Promise<Turn> {
  const headers = { 'x-session-api-key': runtime.sessionKey, 'content-type': 'application/json' };
  const body = {
    agent: { kind: 'Agent', llm: { model: SCRIPTED_MODEL, base_url: llm.baseUrl, api_key: 'x', num_retries: 0 }, tools: [{ name: 'terminal' }] },
    workspace: { kind: 'LocalWorkspace', working_dir: 'w' },
  };
  let began = performance.now();
  const conversation = await ok<{ id: string }>('POST', `${runtime.url}/api/conversations`, body, headers);
  const createMs = performance.now() - began;
  // The shell agent runs each message as a bash command; the OpenHands agent asks the LLM, whose script calls `terminal`.
  const message = agent === 'openhands' ? 'run: echo hi' : 'echo hi';
  const chatsBefore = llm.requests.filter((r) => r.kind === 'chat').length;
  began = performance.now();
  await ok('POST', `${runtime.url}/api/conversations/${conversation.id}/events`, { role: 'user', content: [{ type: 'text', text: message }], run: true }, headers);
  const deadline = Date.now() + TURN_TIMEOUT_MS;
  for (;;) {
    const info = await ok<{ execution_status: string }>('GET', `${runtime.url}/api/conversations/${conversation.id}`, undefined, headers);
    if (info.execution_status === 'finished') break;
    if (['error', 'stuck'].includes(info.execution_status)) throw new Error(`conversation ${conversation.id} ended ${info.execution_status}`);
    if (Date.now() > deadline) throw new Error(`conversation ${conversation.id} not finished within ${TURN_TIMEOUT_MS / 1000} s (${info.execution_status})`);
    await sleep(POLL_MS);
  }
  const turnMs = performance.now() - began;
  const chats = llm.requests.filter((r) => r.kind === 'chat').length - chatsBefore;
  // The tool call, then the answer with the command's output.
  if (agent === 'openhands' && chats < 2) throw new Error(`the agent made ${chats} LLM calls for one terminal command; expected at least 2`);
  const events = await ok<{ items: Array<{ kind: string; source?: string; observation?: unknown; llm_message?: unknown }> }>(
    'GET',
    `${runtime.url}/api/conversations/${conversation.id}/events/search?limit=100`,
    undefined,
    headers,
  );
  // What came back: the terminal's observation (OpenHands), the agent's reply (shell).
  const outcome = (
    agent === 'openhands'
      ? events.items.findLast((e) => e.kind === 'ObservationEvent')?.observation
      : events.items.findLast((e) => e.kind === 'MessageEvent' && e.source === 'agent')?.llm_message
  ) as { content?: unknown; metadata?: { suffix?: string } } | undefined;
  const text = textOf(outcome?.content);
  return {
    createMs,
    turnMs,
    noChangeTimeout: /no new output after \d+ seconds/.test(`${text}${outcome?.metadata?.suffix ?? ''}`),
    sawOutput: /^hi$/m.test(text),
  };
}

/** POST /stop (answered once the runtime's processes are gone), then checks that none is left. */
async function stop(server: RuntimeApiServer, runtime: Runtime): Promise<{ ms: number; left: number }> {
  const pid = server.sandboxPid(runtime.runtimeId);
  const began = performance.now();
  await ok('POST', `${server.url}/stop`, { runtime_id: runtime.runtimeId });
  const elapsed = performance.now() - began;
  return { ms: elapsed, left: (await runtimeProcesses(pid, runtime.runtimeId)).length };
}

// ---------------------------------------------------------------- one agent

interface AgentResult {
  readonly agent: AgentName;
  readonly coldMs: number;
  readonly warmMs: number[];
  readonly pauseMs: number[];
  readonly resumeMs: number[];
  readonly idle: TreeMemory;
  readonly afterTurn: TreeMemory;
  readonly createMs: number[];
  readonly turnMs: number[];
  /** Turns whose command output (`hi`) came back, and turns that ended on the terminal's no-change timeout. */
  readonly sawOutput: number;
  readonly noChangeTimeouts: number;
  readonly stopIdleMs: number;
  readonly stopAfterTurnMs: number[];
  readonly leftAfterStop: number;
}

const progress = (line: string) => process.stdout.write(`  ${line}\n`);

async function benchAgent(agent: AgentName, llm: ScriptedLlm, openhands: ResolvedAgentServer | undefined, logTail: string[]): Promise<AgentResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-agent-server-'));
  const log = (line: string) => {
    logTail.push(line);
    if (logTail.length > 40) logTail.shift();
  };
  const server = await createRuntimeApiServer({ apiKey: KEY, dataDir, agent, openhands: openhands ? { server: openhands } : undefined, log });
  try {
    progress(`${agent}: cold start…`);
    const cold = await startReady(server, `${agent}-cold`);
    progress(`${agent}: cold start ready in ${ms(cold.ms)}; ${RESUMES} pause/resume rounds…`);
    const rounds = [];
    for (let i = 0; i < RESUMES; i++) rounds.push(await pauseResume(server, cold.runtime));
    const stopIdle = await stop(server, cold.runtime);

    const warm: Array<{ runtime: Runtime; ms: number }> = [];
    for (let i = 0; i < WARM_STARTS; i++) {
      progress(`${agent}: warm start ${i + 1} of ${WARM_STARTS}…`);
      warm.push(await startReady(server, `${agent}-warm-${i}`));
    }
    progress(`${agent}: warm starts ready in ${warm.map((w) => ms(w.ms)).join(', ')}; memory, ${WARM_STARTS} up…`);
    await sleep(SETTLE_MS);
    const idle = perRuntime(await Promise.all(warm.map((w) => treeMemory(server, w.runtime.runtimeId))));

    const turns = [];
    for (const { runtime } of warm) turns.push(await converse(runtime, agent, llm));
    progress(`${agent}: one conversation each, turns ${turns.map((t) => ms(t.turnMs)).join(', ')}; memory…`);
    await sleep(SETTLE_MS);
    const afterTurn = perRuntime(await Promise.all(warm.map((w) => treeMemory(server, w.runtime.runtimeId))));

    const stops = [];
    for (const { runtime } of warm) stops.push(await stop(server, runtime));
    return {
      agent,
      coldMs: cold.ms,
      warmMs: warm.map((w) => w.ms),
      pauseMs: rounds.map((r) => r.pauseMs),
      resumeMs: rounds.map((r) => r.resumeMs),
      idle,
      afterTurn,
      createMs: turns.map((t) => t.createMs),
      turnMs: turns.map((t) => t.turnMs),
      sawOutput: turns.filter((t) => t.sawOutput).length,
      noChangeTimeouts: turns.filter((t) => t.noChangeTimeout).length,
      stopIdleMs: stopIdle.ms,
      stopAfterTurnMs: stops.map((s) => s.ms),
      leftAfterStop: stopIdle.left + stops.reduce((a, s) => a + s.left, 0),
    };
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- clean-up and report

/** Whatever of this run's runtimes is still alive (it should be nothing), killed by pid. */
async function sweep(): Promise<{ processes: number; tmuxDirs: number }> {
  const procs = await listProcs();
  let processes = 0;
  for (const { runtimeId, pid } of startedRuntimes) {
    for (const p of await runtimeProcesses(pid, runtimeId, procs)) {
      processes++;
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  let tmuxDirs = 0;
  for (const { runtimeId } of startedRuntimes) {
    const dir = tmuxTmpdir(runtimeId);
    if (existsSync(dir)) {
      tmuxDirs++;
      await rm(dir, { recursive: true, force: true });
    }
  }
  return { processes, tmuxDirs };
}

/** The 1-minute load average every 5 s while the benchmark runs. */
function watchLoad(): { samples: number[]; stop(): void } {
  const samples = [loadavg()[0]!];
  const timer = setInterval(() => samples.push(loadavg()[0]!), 5_000);
  return { samples, stop: () => clearInterval(timer) };
}

const s = (value: number) => `${(value / 1000).toFixed(2)} s`;
const time = (value: number) => (value >= 1000 ? s(value) : ms(value));
const list = (values: number[]) => values.map(time).join(', ');

function report(results: AgentResult[]): void {
  const [oh, sh] = results as [AgentResult, AgentResult];
  const ratio = (a: number, b: number) => `${(a / b).toFixed(0)}x`;
  const row = (label: string, pick: (r: AgentResult) => number, format: (v: number) => string = time) => [label, format(pick(oh)), format(pick(sh)), ratio(pick(oh), pick(sh))];
  const memRow = (label: string, pick: (r: AgentResult) => number) => row(label, pick, mb);
  console.log(
    table(
      ['measure', 'openhands', 'shell', 'openhands/shell'],
      [
        row('time to ready, cold (first start of the agent in this run)', (r) => r.coldMs),
        row(`time to ready, warm (median of the next ${WARM_STARTS}, one at a time)`, (r) => median(r.warmMs)),
        row(`pause: POST /pause answered (median of ${RESUMES})`, (r) => median(r.pauseMs)),
        row(`resume: POST /resume → /alive 200 via the runtime url (median of ${RESUMES})`, (r) => median(r.resumeMs)),
        memRow(`memory per runtime, ${WARM_STARTS} up, idle after ready: RSS`, (r) => r.idle.rss),
        memRow('  PSS', (r) => r.idle.pss),
        row('  processes per runtime', (r) => r.idle.processes, (v) => v.toFixed(1)),
        memRow(`memory per runtime, ${WARM_STARTS} up, after one conversation + command: RSS`, (r) => r.afterTurn.rss),
        memRow('  PSS', (r) => r.afterTurn.pss),
        row('  processes per runtime', (r) => r.afterTurn.processes, (v) => v.toFixed(1)),
        row(`create conversation (median of ${WARM_STARTS}, first in each runtime)`, (r) => median(r.createMs)),
        row(`one turn, "echo hi" → finished (median of ${WARM_STARTS})`, (r) => median(r.turnMs)),
        row('stop, idle runtime (the cold one, after its resumes)', (r) => r.stopIdleMs),
        row(`stop after a conversation (median of ${WARM_STARTS})`, (r) => median(r.stopAfterTurnMs)),
      ],
    ),
  );
  console.log('\n  samples');
  for (const r of results) {
    console.log(`    ${r.agent.padEnd(9)} warm ready ${list(r.warmMs)}; resume ${list(r.resumeMs)}; pause ${list(r.pauseMs)}`);
    console.log(`    ${''.padEnd(9)} create ${list(r.createMs)}; turn ${list(r.turnMs)}; stop after turn ${list(r.stopAfterTurnMs)}`);
  }
  console.log('\n  PSS per runtime by process (after the conversation; count per runtime)');
  for (const r of results) {
    const parts = [...r.afterTurn.byComm].sort((a, b) => b[1].pss - a[1].pss).map(([comm, v]) => `${comm} ×${+v.count.toFixed(1)} ${mb(v.pss)}`);
    console.log(`    ${r.agent.padEnd(9)} ${parts.join(', ')}`);
  }
  console.log('\n  the turns');
  for (const r of results) {
    const timeouts = r.agent === 'openhands' ? `; ended on the terminal tool's 30 s no-change timeout: ${r.noChangeTimeouts} of ${r.turnMs.length}` : '';
    console.log(`    ${r.agent.padEnd(9)} command output ("hi") came back: ${r.sawOutput} of ${r.turnMs.length}${timeouts}`);
  }
  if (oh.noChangeTimeouts > 0) {
    console.log(
      '    (the terminal never saw its PS1 prompt come back, so it waited 30 s without new output: its bash, in tmux, is an\n' +
        '     interactive shell and reads ~/.bashrc; time `bash -ic true </dev/null` for this user — a slow one costs every turn)',
    );
  }
  const left = results.reduce((a, r) => a + r.leftAfterStop, 0);
  console.log(`\n  processes of a runtime still alive right after its POST /stop answered: ${left}`);
}

async function main(): Promise<void> {
  const began = performance.now();
  const load = watchLoad();
  const logTail: string[] = [];
  let llm: ScriptedLlm | undefined;
  let interrupted = false;
  const cleanUp = async () => {
    load.stop();
    await llm?.close().catch(() => undefined);
    llm = undefined;
    return sweep();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping everything this benchmark started…\n`);
    // Each Runtime API server kills its sandboxes on exit (process.on('exit')); the sweep gets the rest.
    void cleanUp().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let failed: unknown;
  let results: AgentResult[] = [];
  try {
    console.log(`OpenHands agent server vs shell agent in local runtimes (process driver) — node ${process.version}, ${cpus().length} CPUs`);
    const openhands = await resolveAgentServer({
      explicitPath: process.env.OPENHANDS_AGENT_SERVER_PATH,
      toolsDir: PROJECT_TOOLS_DIR,
      install: true,
      log: (line) => console.log(`  ${line}`),
    });
    console.log(`openhands-agent-server ${openhands.version} (${openhands.source}): ${[openhands.command, ...openhands.args].join(' ')}`);
    console.log(`load average at start: ${loadavg().map((v) => v.toFixed(2)).join(', ')}\n`);
    llm = await startScriptedLlm();
    // OpenHands first: its cold start is the run's very first start, right after the install
    // check (the page cache may or may not hold its files; caches are not dropped).
    results.push(await benchAgent('openhands', llm, openhands, logTail));
    results.push(await benchAgent('shell', llm, undefined, logTail));
  } catch (error) {
    failed = error;
    results = [];
  }
  const swept = await cleanUp();
  if (failed) {
    console.error(`\nbenchmark failed: ${failed instanceof Error ? failed.message : String(failed)}`);
    if (logTail.length > 0) console.error(`last Runtime API log lines:\n${logTail.map((l) => `  ${l.slice(0, 400)}`).join('\n')}`);
  } else {
    console.log();
    report(results);
  }
  const samples = load.samples;
  console.log(`\n  load average (1 min) during the run: min ${Math.min(...samples).toFixed(2)}, max ${Math.max(...samples).toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)}`);
  console.log(`  left running after the run: ${swept.processes} processes, ${swept.tmuxDirs} tmux folders${swept.processes + swept.tmuxDirs > 0 ? ' (killed and removed now)' : ''}`);
  console.log(`\ntotal benchmark time ${((performance.now() - began) / 1000).toFixed(0)} s`);
  if (failed) process.exitCode = 1;
}

await main();
