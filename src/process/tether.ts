// Children that cannot outlive us. The child runs under a small bash wrapper that
// watches its stdin pipe: when our process ends for any reason (even SIGKILL) the
// kernel closes the pipe and the wrapper terminates the child. A graceful stop closes
// the pipe too, so both paths share one mechanism. The wrapper leads its own process
// group, so Ctrl-C in a terminal reaches us first and we decide the shutdown order.
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';

const WRAPPER = `
"$@" </dev/null & child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
while kill -0 "$child" 2>/dev/null; do
  read -r -t 1 _; status=$?
  # >128: read timed out, keep watching; 0: a stray line; anything else: stdin closed.
  [ "$status" -gt 128 ] || [ "$status" -eq 0 ] || break
done
kill -TERM "$child" 2>/dev/null
wait "$child"
`;

export interface TetheredChild {
  readonly process: ChildProcessByStdio<Writable, Readable, Readable>;
  /** Resolves with the exit code (or signal name) once the child has ended. */
  readonly exited: Promise<number | string>;
  /** Asks the child to stop (SIGTERM), then kills the whole group after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
}

export function spawnTethered(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): TetheredChild {
  // No startup files: bash runs ~/.bashrc when its stdin is a socket (node's 'pipe' is a
  // socketpair) as if started by rshd, and $BASH_ENV in any non-interactive shell. A user's
  // rc file that is slow or hangs (a `pyenv rehash` waiting on a lock) must not delay start-up.
  const { BASH_ENV: _bashEnv, ENV: _env, ...env } = options.env ?? process.env;
  const child = spawn('bash', ['--norc', '--noprofile', '-c', WRAPPER, 'tether', command, ...args], {
    cwd: options.cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  // A broken pipe on stdin just means the wrapper is gone already.
  child.stdin.on('error', () => {});
  const stop = async (graceMs = 10_000): Promise<number | string> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };
  return { process: child, exited, stop };
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
