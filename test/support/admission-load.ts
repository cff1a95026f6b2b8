// Helpers for the admission tests: client processes that start many conversations at
// once, and a watch on the Runtime API's GET /list that records the most runtimes one
// user ever had running at the same time.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RuntimeApiClient } from '../../src/runtime-api/index.js';
import { projectRoot } from '../../src/temporal/server.js';
import type { StartOutcome, StarterJob } from './admission-starter.js';

/** Runs one client process for `job`; resolves with what each of its starts returned. */
export async function startFromProcess(job: StarterJob): Promise<StartOutcome[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/admission-starter.ts', JSON.stringify(job)], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`client process exited with ${code}: ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as StartOutcome[];
}

/** Splits the conversations over two client processes that start them at the same time. */
export async function startFromTwoProcesses(job: Omit<StarterJob, 'conversationIds'>, conversationIds: readonly string[]): Promise<StartOutcome[]> {
  const halves = [conversationIds.filter((_, k) => k % 2 === 0), conversationIds.filter((_, k) => k % 2 === 1)];
  return (await Promise.all(halves.map((ids) => startFromProcess({ ...job, conversationIds: ids })))).flat();
}

export interface RunningWatch {
  /** The most runtimes of the session-ID prefix seen running at once so far. */
  max(prefix: string): number;
  readonly polls: number;
  stop(): Promise<void>;
}

/** Polls GET /list until stopped; a runtime counts as running unless it is paused or stopped. */
export function watchRunning(runtimeApi: RuntimeApiClient, prefixes: readonly string[], everyMs = 50): RunningWatch {
  const most = new Map(prefixes.map((prefix) => [prefix, 0]));
  let polls = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { runtimes } = await runtimeApi.list();
      for (const prefix of prefixes) {
        const running = runtimes.filter((r) => r.session_id?.startsWith(prefix) && r.status !== 'paused' && r.status !== 'stopped').length;
        most.set(prefix, Math.max(most.get(prefix) ?? 0, running));
      }
      polls++;
      await sleep(everyMs);
    }
  })();
  return {
    max: (prefix) => most.get(prefix) ?? 0,
    get polls() {
      return polls;
    },
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
