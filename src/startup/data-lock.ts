// One `npm start` per data folder: two would run two Temporal servers on one SQLite file
// and two Runtime APIs over one workspace folder. The lock is a file holding the owner's
// PID, created exclusively; a lock whose process is gone (killed, machine restarted) is
// stale and taken over.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { processAlive } from '../process/alive.js';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the data folder ${dataDir} is in use by another \`npm start\` (PID ${pid}): two would share one Temporal database. ` +
        `Stop that one (kill ${pid}), or give this one its own folder with DATA_DIR.`,
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  readonly file: string;
  release(): Promise<void>;
}

export const lockFileOf = (dataDir: string) => path.join(dataDir, 'npm-start.pid');

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const file = lockFileOf(dataDir);
  // Twice at most: the second attempt follows the removal of a stale lock.
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { file, release: () => releaseIfOurs(file) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const owner = await ownerOf(file);
    if (owner !== undefined && owner !== process.pid && processAlive(owner)) throw new DataDirLockedError(dataDir, owner);
    await rm(file, { force: true });
  }
}

async function ownerOf(file: string): Promise<number | undefined> {
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function releaseIfOurs(file: string): Promise<void> {
  if ((await ownerOf(file)) === process.pid) await rm(file, { force: true });
}
