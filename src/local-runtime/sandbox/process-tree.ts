// Finding and signalling the processes a command started. A command's bash can fork
// children that outlive it (`server &`) and get re-parented away from us, and in
// 'inherit' mode they share the agent server's process group, so a group kill is no
// option. A process therefore belongs to a command when it descends from the command's
// bash OR carries the command's tag in its environment (inherited through fork/exec):
// the first catches children that scrub their environment, the second catches orphans.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Environment variable that marks every process a command starts. */
export const PROCESS_TAG_VAR = 'SANDBOX_PROCESS_TAG';

export interface ProcessSelector {
  /**
   * Processes whose tag starts with this prefix (tags are `/`-separated and end in `/`).
   * Without one, only the roots' descendants: enough when nothing can leave them (a PID
   * namespace re-parents its orphans to its own first process), and no environment is read.
   */
  readonly tagPrefix?: string;
  /** Live (not yet reaped) pids: each is included with all its descendants. */
  readonly roots: readonly number[];
  /** Process groups to signal as a whole ('own' mode); only groups whose leader is not yet reaped. */
  readonly groups?: readonly number[];
}

interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
}

// Without /proc (macOS) we fall back to `ps`, which cannot see environments: orphans
// of a finished command are then out of reach, descendants of a live one are not.
let procAvailable: boolean | undefined;
const hasProc = (): boolean => (procAvailable ??= existsSync('/proc/self/stat'));

/** Every live, non-zombie process on the machine except this one. */
function listProcesses(): ProcessEntry[] {
  if (!hasProc()) return listWithPs();
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const entry = readStat(pid);
    if (entry) entries.push(entry);
  }
  return entries;
}

function readStat(pid: number): ProcessEntry | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses; the fields after the last ')' may not.
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z' || state === 'X') return undefined;
    return { pid, ppid: Number(ppid) };
  } catch {
    return undefined; // exited while we looked
  }
}

function listWithPs(): ProcessEntry[] {
  const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,stat='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, , stat]) => pid && Number(pid) !== process.pid && !stat?.startsWith('Z'))
    .map(([pid, ppid]) => ({ pid: Number(pid), ppid: Number(ppid) }));
}

function hasTag(pid: number, tagPrefix: string): boolean {
  if (!hasProc()) return false;
  try {
    const wanted = `${PROCESS_TAG_VAR}=${tagPrefix}`;
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').some((entry) => entry.startsWith(wanted));
  } catch {
    return false; // gone, or not ours to read
  }
}

/** The pids the selector covers right now. */
export function findProcesses(selector: ProcessSelector): number[] {
  const all = listProcesses();
  const children = new Map<number, number[]>();
  for (const { pid, ppid } of all) {
    const siblings = children.get(ppid);
    if (siblings) siblings.push(pid);
    else children.set(ppid, [pid]);
  }
  const found = new Set<number>();
  const visit = (pid: number): void => {
    if (found.has(pid) || pid === process.pid) return;
    found.add(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  for (const root of selector.roots) visit(root);
  const { tagPrefix } = selector;
  if (tagPrefix !== undefined) for (const { pid } of all) if (!found.has(pid) && hasTag(pid, tagPrefix)) visit(pid);
  return [...found];
}

/** Signals one process; one that is gone meanwhile is no error. */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone: nothing to do
  }
}

/** Stops every covered process, rescanning until no new one appears (a process may fork meanwhile). */
function freeze(selector: ProcessSelector): Set<number> {
  for (const group of selector.groups ?? []) signalProcess(-group, 'SIGSTOP');
  const stopped = new Set<number>();
  for (let round = 0; round < 20; round += 1) {
    const fresh = findProcesses(selector).filter((pid) => !stopped.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      signalProcess(pid, 'SIGSTOP');
      stopped.add(pid);
    }
  }
  return stopped;
}

/**
 * Sends `signal` to every covered process. SIGKILL and SIGSTOP freeze the whole set first,
 * so nothing can fork a survivor between our scan and our signal.
 */
export function signalProcesses(selector: ProcessSelector, signal: NodeJS.Signals): number[] {
  if (signal === 'SIGSTOP') return [...freeze(selector)];
  if (signal === 'SIGKILL') {
    const stopped = freeze(selector);
    for (const group of selector.groups ?? []) signalProcess(-group, 'SIGKILL');
    for (const pid of stopped) signalProcess(pid, 'SIGKILL');
    return [...stopped];
  }
  for (const group of selector.groups ?? []) signalProcess(-group, signal);
  const pids = findProcesses(selector);
  for (const pid of pids) signalProcess(pid, signal);
  return pids;
}

/** How long killAll waits for killed processes to die; SIGKILL takes effect asynchronously. */
const DEATH_WAIT_MS = 2000;

/** SIGKILLs every covered process and resolves once they are all dead (zombies count as dead). */
export async function killAll(selector: ProcessSelector): Promise<void> {
  let pending = signalProcesses(selector, 'SIGKILL');
  const deadline = Date.now() + DEATH_WAIT_MS;
  while (pending.length > 0 && Date.now() < deadline) {
    await sleep(5);
    pending = pending.filter(isAlive);
  }
}

function isAlive(pid: number): boolean {
  if (hasProc()) return readStat(pid) !== undefined;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
