// Runs one shell command for the built-in agent: `bash -c` in the conversation's
// workspace with a scrubbed environment, a time limit that kills the whole process tree
// (orphans included), and a cap on the captured output.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { CappedOutput } from './capped-output.js';
import { Deadline } from './deadline.js';
import { PROCESS_TAG_VAR, signalProcesses } from './process-tree.js';
import type { ProcessSelector } from './process-tree.js';

export interface CommandSpec {
  readonly command: string;
  readonly cwd: string;
  /** Marks the command's processes; see process-tree.ts. Must end in `/`. */
  readonly tag: string;
  readonly timeoutMs: number;
  readonly outputCapBytes: number;
  /** Start the command in its own process group (setsid) instead of ours. */
  readonly ownProcessGroup: boolean;
  /** Start it held, as if SIGSTOP came first; `signalled('SIGCONT')` lets it go. Its stdin is then an empty pipe. */
  readonly startStopped?: boolean;
}

export interface CommandResult {
  /** stdout and stderr interleaved as they arrived, capped, plus any truncation/timeout note. */
  readonly output: string;
  /** The shell's exit code; -1 when it ended by a signal or never started (OpenHands' convention). */
  readonly exitCode: number;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly truncated: boolean;
  readonly durationMs: number;
}

export interface RunningCommand {
  readonly result: Promise<CommandResult>;
  /** What a signal to this command must cover; callers signal many commands in one scan. */
  selector(): ProcessSelector;
  /** Tells the command a caller signalled it: SIGSTOP/SIGCONT hold/restart its time limit. */
  signalled(signal: NodeJS.Signals): void;
}

/** How long a finished shell's output pipes may stay open, held by a background child. */
const STREAM_GRACE_MS = 200;

const NO_RC = ['--norc', '--noprofile'];

/** Only these are passed on: the agent server's own secrets (SESSION_API_KEY, OH_*) never are. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'USER', 'LOGNAME'];

export function commandEnvironment(tag: string): Record<string, string> {
  const env: Record<string, string> = { PATH: '/usr/local/bin:/usr/bin:/bin', TERM: 'dumb' };
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  env[PROCESS_TAG_VAR] = tag;
  return env;
}

export function runCommand(spec: CommandSpec): RunningCommand {
  const started = Date.now();
  const output = new CappedOutput(spec.outputCapBytes);
  let child: ChildProcess;
  try {
    // Started stopped, the shell waits for a line on stdin and then becomes the command (same
    // pid). Unlike SIGSTOP after spawning, no step of the command can run first; unlike a
    // self-SIGSTOP, a go-ahead that comes early (a byte in a pipe) cannot be lost.
    // No startup files: bash reads ~/.bashrc when its stdin is a socket (node's 'pipe' is a
    // socketpair), so a started-stopped command would otherwise run the host user's rc file,
    // which is slow (pyenv init) or hangs, against the command's time limit.
    const args = spec.startStopped
      ? [...NO_RC, '-c', 'read -r _; exec bash --norc --noprofile -c "$1"', 'bash', spec.command]
      : [...NO_RC, '-c', spec.command];
    child = spawn('bash', args, {
      cwd: spec.cwd,
      env: commandEnvironment(spec.tag),
      stdio: [spec.startStopped ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: spec.ownProcessGroup,
    });
  } catch (error) {
    const selector = (): ProcessSelector => ({ tagPrefix: spec.tag, roots: [] });
    return { result: Promise.resolve(failedToStart(error, started)), selector, signalled: () => undefined };
  }
  const live = (): boolean => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  // A pid may be used as a root only while unreaped: after that it may belong to a stranger.
  const selector = (): ProcessSelector => ({
    tagPrefix: spec.tag,
    roots: live() ? [child.pid as number] : [],
    groups: spec.ownProcessGroup && live() ? [child.pid as number] : [],
  });
  let timedOut = false;
  const deadline = new Deadline(spec.timeoutMs, () => {
    timedOut = true;
    signalProcesses(selector(), 'SIGKILL');
  });
  let held = spec.startStopped === true;
  if (held) deadline.hold();
  child.stdin?.on('error', () => undefined); // the command died before its go-ahead: nothing to tell
  child.stdout?.on('data', output.add);
  child.stderr?.on('data', output.add);
  const result = new Promise<CommandResult>((resolve) => {
    let grace: NodeJS.Timeout | undefined;
    let spawnError: unknown;
    const finish = (): void => {
      deadline.clear();
      clearTimeout(grace);
      if (spawnError !== undefined && child.pid === undefined) return resolve(failedToStart(spawnError, started));
      const notes = timedOut ? `\n[command timed out after ${spec.timeoutMs} ms]` : '';
      resolve({
        output: output.text() + notes,
        exitCode: child.exitCode ?? -1,
        signal: child.signalCode,
        timedOut,
        truncated: output.truncated,
        durationMs: Date.now() - started,
      });
    };
    child.once('error', (error) => {
      spawnError = error;
      if (child.pid === undefined) finish();
    });
    child.once('exit', () => {
      grace = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, STREAM_GRACE_MS);
    });
    child.once('close', finish);
  });
  const signalled = (sig: NodeJS.Signals): void => {
    if (sig === 'SIGSTOP') deadline.hold();
    if (sig !== 'SIGCONT') return;
    deadline.resume();
    if (held) child.stdin?.end('\n');
    held = false;
  };
  return { result, selector, signalled };
}

function failedToStart(error: unknown, started: number): CommandResult {
  const reason = error instanceof Error ? error.message : String(error);
  return { output: `[command could not start: ${reason}]`, exitCode: -1, signal: null, timedOut: false, truncated: false, durationMs: Date.now() - started };
}
