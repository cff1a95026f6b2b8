// Reading processes from /proc, for tests that check what a runtime left running where a
// process group cannot tell (daemons such as tmux servers start sessions of their own).
import { readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface ProcessInfo {
  readonly pid: number;
  /** e.g. "tmux: server", "sleep" (the kernel keeps 15 characters) */
  readonly comm: string;
  /** The command line, space-separated. */
  readonly args: string;
  /** Its session id, as a string. */
  readonly session: string;
}

/** The environment a process started with. */
export async function environOf(pid: number): Promise<Record<string, string>> {
  const text = await readFile(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(text.split('\0').filter(Boolean).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

/** Live (not zombie) processes whose environment has `name=value`. */
export function processesWith(name: string, value: string): ProcessInfo[] {
  const wanted = `${name}=${value}`;
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(wanted)) continue;
      const state = stateOf(pid);
      if (state === undefined || state === 'Z' || state === 'X') continue;
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid, comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), args, session: statFields(pid)![3]! });
    } catch {
      // it exited while we looked
    }
  }
  return found;
}

/** The soft open-file limit of a process. */
export async function openFilesLimit(pid: number): Promise<number | 'unlimited'> {
  const soft = /^Max open files\s+(\d+|unlimited)\s/m.exec(await readFile(`/proc/${pid}/limits`, 'utf8'))?.[1];
  return soft === 'unlimited' ? soft : Number(soft);
}

/** The one-letter state (R, S, T, Z, …), or undefined once the process is gone. */
export function stateOf(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/** The process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  const state = stateOf(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** The fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session, … */
export function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
