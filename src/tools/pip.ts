// Runs pip through a given interpreter (never a shim: see python.ts). Two installs at once
// (npm start beside npm test) can trip over each other's cache or rehash lock; such a
// failure is retried once after a pause, any other is returned as its last stderr line.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

const LOCK_ERROR = /\block(?:ed|file)?\b|\.lock\b|another process/i;
const LOCK_RETRY_DELAY_MS = 2000;

/** `python -m pip <args>`; undefined on success, else what went wrong. */
export async function pip(python: string, args: readonly string[], timeoutMs: number): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run(python, ['-m', 'pip', ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
      return undefined;
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      if (attempt === 1 && LOCK_ERROR.test(stderr)) {
        await sleep(LOCK_RETRY_DELAY_MS);
        continue;
      }
      return lastLine(stderr) ?? (error as Error).message.split('\n')[0];
    }
  }
}

export function lastLine(text: string | undefined): string | undefined {
  return text?.trim().split('\n').filter(Boolean).at(-1);
}
