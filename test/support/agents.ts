// The two agent servers a conversation test can run against: the built-in shell agent
// (each message is a bash command) and the real OpenHands agent server driven by the
// scripted LLM (src/llm/script.ts: `run: <command>` makes the agent call its terminal
// tool). A variant says how to ask for a command and what its answer looks like, so one
// test body serves both.
import type { AgentSettings } from '../../src/activities/agent-config.js';
import { SCRIPTED_MODEL, startScriptedLlm } from '../../src/llm/scripted-llm.js';
import type { ScriptedLlm } from '../../src/llm/scripted-llm.js';
import type { RuntimeApiServerOptions } from '../../src/local-runtime/server.js';
import { freePort } from '../../src/temporal/dev-server.js';
import type { ConversationPolicy } from '../../src/workflows/state.js';
import { startConversationStack } from './conversations.js';
import type { ConversationStack } from './conversations.js';
import { startFaultProxy } from './fault-proxy.js';
import type { FaultProxy, FaultRule } from './fault-proxy.js';
import { spawnWorker } from './worker-process.js';
import type { WorkerProcess } from './worker-process.js';

export interface AgentVariant {
  readonly name: 'shell' | 'openhands';
  /** For startConversationStack: what the runtimes run and what the worker creates in them. */
  readonly server: Partial<RuntimeApiServerOptions>;
  readonly agent: Partial<AgentSettings>;
  /** The same agent settings as configuration, for a worker run as its own process. */
  readonly workerEnv: Record<string, string>;
  /** The user message that makes the agent run `command`. */
  ask(command: string): string;
  /** Whether an agent reply answers `command` with `output` in it. */
  answers(reply: string, output: string): boolean;
  /** The real server keeps conversations on disk: a restarted one still holds its messages. */
  readonly keepsConversationsAcrossRestart: boolean;
  /** The scripted LLM's requests (openhands only), e.g. to check the key it was sent. */
  readonly llm?: ScriptedLlm;
  close(): Promise<void>;
}

/** The key the worker sends the scripted LLM; a test may grep history for it. */
export const SCRIPTED_LLM_KEY = 'sk-scripted-llm-test-key-7f3a';

export function shellVariant(): AgentVariant {
  return {
    name: 'shell',
    server: {},
    agent: {},
    workerEnv: {},
    ask: (command) => command,
    answers: (reply, output) => reply === `${output}\n`,
    keepsConversationsAcrossRestart: false,
    close: async () => {},
  };
}

export async function openhandsVariant(options: { maxConcurrentRuns?: number } = {}): Promise<AgentVariant> {
  const llm = await startScriptedLlm();
  return {
    name: 'openhands',
    server: { agent: 'openhands', openhands: { maxConcurrentRuns: options.maxConcurrentRuns } },
    agent: { model: SCRIPTED_MODEL, baseUrl: llm.baseUrl, apiKey: { value: SCRIPTED_LLM_KEY }, tools: ['terminal'] },
    workerEnv: { LLM_MODEL: SCRIPTED_MODEL, LLM_BASE_URL: llm.baseUrl, LLM_API_KEY: SCRIPTED_LLM_KEY, AGENT_TOOLS: 'terminal' },
    ask: (command) => `run: ${command}`,
    answers: (reply, output) => reply.includes(output),
    keepsConversationsAcrossRestart: true,
    llm,
    close: () => llm.close(),
  };
}

/** Both variants, for `for (const make of AGENT_VARIANTS)` around a describe block. */
export const AGENT_VARIANTS: ReadonlyArray<{ readonly name: AgentVariant['name']; make(): Promise<AgentVariant> }> = [
  { name: 'shell', make: async () => shellVariant() },
  { name: 'openhands', make: () => openhandsVariant() },
];

export interface AgentStack {
  readonly variant: AgentVariant;
  readonly stack: ConversationStack;
  /** Every agent-server call passes it (the runtime URLs lead through it): it records, and plays `rules`. */
  readonly proxy: FaultProxy;
  close(): Promise<void>;
}

/** A conversation stack whose runtimes run `variant`'s agent, with agent-server traffic through a fault proxy. */
export async function startAgentStack(
  variant: AgentVariant,
  options: { rules?: readonly FaultRule[]; noWorker?: boolean; policy?: Partial<ConversationPolicy> } = {},
): Promise<AgentStack> {
  const port = await freePort();
  const proxy = await startFaultProxy(`http://127.0.0.1:${port}`, options.rules ?? []);
  const stack = await startConversationStack({
    noWorker: options.noWorker,
    policy: options.policy,
    server: { ...variant.server, port, publicUrl: proxy.url },
    agent: variant.agent,
  });
  return {
    variant,
    stack,
    proxy,
    close: async () => {
      // Each step bounded, and named when it overruns: once (2026-12-02, real-agent file, all
      // its tests passed) this teardown hung until the file's 15-minute timeout, cause not
      // yet found. A hang is reported here instead of costing the whole file.
      await bounded('the conversation stack', () => stack.close());
      await bounded('the fault proxy', () => proxy.close());
      await bounded('the agent variant (LLM server)', () => variant.close());
    },
  };
}

const TEARDOWN_STEP_MS = 120_000;

async function bounded(what: string, close: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const overran = new Promise<'overran'>((resolve) => (timer = setTimeout(() => resolve('overran'), TEARDOWN_STEP_MS)));
  try {
    if ((await Promise.race([close(), overran])) === 'overran') console.warn(`[test] closing ${what} took over ${TEARDOWN_STEP_MS / 1000} s; left behind`);
  } finally {
    clearTimeout(timer);
  }
}

/** Worker processes on a stack's task queue, with its agent's settings, for tests that kill workers: `killAll` in the test's `after`. */
export function stackWorkers(setup: () => AgentStack) {
  const workers: WorkerProcess[] = [];
  return {
    spawn: async (): Promise<WorkerProcess> => {
      const { stack, variant } = setup();
      const worker = await spawnWorker({ taskQueue: stack.temporal.taskQueue, runtimeApiUrl: stack.server.url, runtimeApiKey: stack.runtimeApiKey, env: variant.workerEnv });
      workers.push(worker);
      return worker;
    },
    killAll: async (): Promise<void> => {
      for (const worker of workers) await worker.kill();
    },
  };
}
