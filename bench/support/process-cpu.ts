// CPU time by component, for telling where a benchmark's work goes on a shared machine: the
// Temporal server, the worker, a runtime's process tree, and this process (the client and,
// in the benchmarks, the local Runtime API). Read from /proc as user + system time of each
// process plus that of its children already reaped (a shell agent's commands end quickly).
import { readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on Linux

// Indexes among the fields after the command name (state is field 3): utime, stime, cutime, cstime are 14-17.
const OWN_AND_REAPED = [11, 12, 13, 14];
const REAPED = [13, 14];

/** Milliseconds of CPU that `pid` and its reaped children used so far; 0 when it is gone. */
export const cpuMs = (pid: number): Promise<number> => statCpuMs(pid, OWN_AND_REAPED);

/** Milliseconds of the `fields` of `pid`'s /proc stat, summed; 0 when it is gone. */
async function statCpuMs(pid: number, fields: readonly number[]): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return 0;
  const values = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = fields.reduce((sum, i) => sum + Number(values[i] ?? 0), 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** This process's CPU milliseconds (user + system). */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU milliseconds of this process's children already reaped: an in-process agent server's commands. */
export const reapedChildrenCpuMs = (): Promise<number> => statCpuMs(process.pid, REAPED);

export type CpuReading = Record<string, number>;

/** Reads each component's CPU milliseconds: `pids` sums the processes of a component. */
export async function readCpu(components: Record<string, () => Promise<readonly number[]>>): Promise<CpuReading> {
  const reading: CpuReading = { 'this process (client, Runtime API)': ownCpuMs(), 'its commands, reaped (in-process agents)': await reapedChildrenCpuMs() };
  for (const [name, pids] of Object.entries(components)) {
    const each = await Promise.all((await pids()).map(cpuMs));
    reading[name] = each.reduce((a, b) => a + b, 0);
  }
  return reading;
}

/** CPU milliseconds per item of each component between two readings. */
export function perItem(before: CpuReading, after: CpuReading, items: number): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((name) => [name, ((after[name] ?? 0) - (before[name] ?? 0)) / items]));
}
