// Whether a process still exists, for locks and ledgers that record their owner's PID.

/** True while `pid` exists, ours or not (EPERM: someone else's, still alive). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
