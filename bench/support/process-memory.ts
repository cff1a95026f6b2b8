// A runtime's whole process tree and its memory, for the benchmarks: the sandbox's process
// (its bubblewrap when isolated, whose descendants are the whole sandbox; without isolation,
// the wrapper that leads its process group), every process carrying its tag (without
// isolation, the OpenHands server's tmux servers call setsid and leave the group but keep
// the environment), and the descendants of all of them.
import { readdir, readFile } from 'node:fs/promises';
import type { RuntimeApiServer } from '../../src/local-runtime/server.js';
import { PROCESS_TAG_VAR } from '../../src/local-runtime/sandbox/process-tree.js';

export interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly comm: string;
}

export function listProcs(): Promise<Proc[]> {
  return readdir('/proc').then((names) =>
    Promise.all(
      names
        .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
        .map(async (name): Promise<Proc | undefined> => {
          try {
            const stat = await readFile(`/proc/${name}/stat`, 'utf8');
            const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
            const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
            if (state === 'Z' || state === 'X') return undefined;
            return { pid: Number(name), ppid: Number(ppid), pgrp: Number(pgrp), comm };
          } catch {
            return undefined; // exited while we looked
          }
        }),
    ).then((procs) => procs.filter((p): p is Proc => p !== undefined)),
  );
}

/** The live processes of the group `pgrp` leads: the Temporal server runs under a tether that leads its group. */
export async function processGroup(pgrp: number | undefined): Promise<number[]> {
  return pgrp ? (await listProcs()).filter((p) => p.pgrp === pgrp).map((p) => p.pid) : [];
}

async function tagOf(pid: number): Promise<string | undefined> {
  try {
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1');
    return environ.split('\0').find((entry) => entry.startsWith(`${PROCESS_TAG_VAR}=`))?.slice(PROCESS_TAG_VAR.length + 1);
  } catch {
    return undefined; // gone, or not ours
  }
}

/**
 * A runtime's whole process tree: its sandbox's process group (the wrapper leads it), every
 * process carrying its tag (the OpenHands server's tmux servers and commands call setsid and
 * leave the group, but keep the environment), and the descendants of both.
 */
export async function runtimeProcesses(sandboxPid: number | undefined, runtimeId: string, procs?: Proc[]): Promise<Proc[]> {
  const all = procs ?? (await listProcs());
  const tag = `local-runtime/${runtimeId}/`;
  const found = new Map<number, Proc>();
  const tags = await Promise.all(all.map((p) => tagOf(p.pid)));
  all.forEach((p, i) => {
    if ((sandboxPid !== undefined && p.pgrp === sandboxPid) || tags[i]?.startsWith(tag)) found.set(p.pid, p);
  });
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const visit = (p: Proc): void => {
    for (const child of children.get(p.pid) ?? []) {
      if (found.has(child.pid)) continue;
      found.set(child.pid, child);
      visit(child);
    }
  };
  for (const p of [...found.values()]) visit(p);
  return [...found.values()];
}

/** Kilobytes of a /proc/<pid>/… field (VmRSS in status, Pss in smaps_rollup); 0 when gone. */
export async function procKb(pid: number, file: string, field: string): Promise<number> {
  const text = await readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => '');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
}

export interface TreeMemory {
  readonly processes: number;
  readonly rss: number; // bytes, summed (shared pages counted in every process)
  readonly pss: number; // bytes, summed (shared pages split between their users)
  readonly byComm: Map<string, { count: number; pss: number }>;
}

export async function treeMemory(server: RuntimeApiServer, runtimeId: string): Promise<TreeMemory> {
  const procs = await runtimeProcesses(server.sandboxPid(runtimeId), runtimeId);
  const rss = await Promise.all(procs.map((p) => procKb(p.pid, 'status', 'VmRSS')));
  const pss = await Promise.all(procs.map((p) => procKb(p.pid, 'smaps_rollup', 'Pss')));
  const byComm = new Map<string, { count: number; pss: number }>();
  procs.forEach((p, i) => {
    const entry = byComm.get(p.comm) ?? { count: 0, pss: 0 };
    byComm.set(p.comm, { count: entry.count + 1, pss: entry.pss + pss[i]! * 1024 });
  });
  const sum = (kb: number[]) => kb.reduce((a, b) => a + b, 0) * 1024;
  return { processes: procs.length, rss: sum(rss), pss: sum(pss), byComm };
}

/** The mean of N runtimes' trees (the figure per runtime), and their process kinds added up. */
export function perRuntime(trees: TreeMemory[]): TreeMemory {
  const n = trees.length;
  const byComm = new Map<string, { count: number; pss: number }>();
  for (const tree of trees) {
    for (const [comm, v] of tree.byComm) {
      const entry = byComm.get(comm) ?? { count: 0, pss: 0 };
      byComm.set(comm, { count: entry.count + v.count / n, pss: entry.pss + v.pss / n });
    }
  }
  const mean = (pick: (t: TreeMemory) => number) => trees.reduce((a, t) => a + pick(t), 0) / n;
  return { processes: mean((t) => t.processes), rss: mean((t) => t.rss), pss: mean((t) => t.pss), byComm };
}

