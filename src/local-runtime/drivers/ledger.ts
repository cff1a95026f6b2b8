// A record, in the data folder, of the sandbox process groups a server has running and
// which server owns them. Sandboxes exit by themselves when their server dies, except a
// paused (SIGSTOPped) one, which cannot notice: so a starting server kills the groups
// whose owner is dead. SIGKILL reaches stopped processes too.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { processAlive } from '../../process/alive.js';

interface Entry {
  readonly pgid: number;
  readonly owner: number;
}

export class SandboxLedger {
  readonly #file: string;
  #entries: Entry[];

  /** Opens the ledger, first killing the groups left behind by servers that died. */
  constructor(file: string, log: (line: string) => void) {
    this.#file = file;
    const surviving: Entry[] = [];
    for (const entry of read(file)) {
      if (processAlive(entry.owner)) surviving.push(entry);
      else if (killGroup(entry.pgid)) log(`killed sandbox group ${entry.pgid} left by server ${entry.owner}, which died`);
    }
    this.#entries = surviving;
    this.#write();
  }

  add(pgid: number): void {
    this.#entries.push({ pgid, owner: process.pid });
    this.#write();
  }

  remove(pgid: number): void {
    this.#entries = this.#entries.filter((entry) => entry.pgid !== pgid);
    this.#write();
  }

  #write(): void {
    mkdirSync(dirname(this.#file), { recursive: true });
    writeFileSync(this.#file, JSON.stringify(this.#entries));
  }
}

function read(file: string): Entry[] {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return Array.isArray(parsed) ? parsed.filter((e): e is Entry => Number.isInteger(e?.pgid) && Number.isInteger(e?.owner)) : [];
  } catch {
    return [];
  }
}

function killGroup(pgid: number): boolean {
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}
