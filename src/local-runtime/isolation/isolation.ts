// Whether and how the process driver isolates its sandboxes (jail.ts). On by default; a
// machine that cannot do it stops the server at start with the reason, and only an explicit
// RUNTIME_ISOLATION=off runs sandboxes without walls, with a warning at every start.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolveBubblewrap } from '../../tools/bubblewrap.js';
import type { LogFn } from '../drivers/driver.js';
import type { IsolationMode, NetworkPolicy } from './jail.js';
import { Jail } from './jail.js';

const run = promisify(execFile);

export interface IsolationOptions {
  /** @default 'namespaces' */
  readonly mode?: IsolationMode;
  /** What a sandbox's network namespace holds. @default 'host' */
  readonly network?: NetworkPolicy;
  /** bubblewrap, or how to find it. @default found on PATH, never installed */
  readonly bubblewrap?: string | (() => Promise<string>);
}

export const NO_ISOLATION_WARNING =
  'RUNTIME_ISOLATION=off: sandboxes run WITHOUT isolation. Agent code can read every file and process environment this user can, keys included. Use it only with trusted agent code.';

export class IsolationUnavailableError extends Error {
  constructor(reason: string) {
    super(
      `sandbox isolation is not available on this machine: ${reason}\n` +
        'Sandboxes run agent code in Linux namespaces through bubblewrap, which needs user namespaces ' +
        '(check `sysctl user.max_user_namespaces` and, on Ubuntu, `kernel.apparmor_restrict_unprivileged_userns`). ' +
        'To run sandboxes without isolation, for trusted agent code only, set RUNTIME_ISOLATION=off.',
    );
    this.name = 'IsolationUnavailableError';
  }
}

/**
 * The jail every sandbox goes into, checked by running one: undefined when isolation is
 * off. `supportDir`: a folder of the server's for the jails' shared files.
 */
export async function createJail(options: IsolationOptions, supportDir: string, log: LogFn): Promise<Jail | undefined> {
  if (options.mode === 'off') {
    log(`WARNING ${NO_ISOLATION_WARNING}`);
    return undefined;
  }
  let bwrap: string;
  try {
    const given = options.bubblewrap;
    bwrap = typeof given === 'string' ? given : given ? await given() : await resolveBubblewrap({ install: false, log });
  } catch (error) {
    throw new IsolationUnavailableError(error instanceof Error ? error.message : String(error));
  }
  const jail = await Jail.create(bwrap, options.network ?? 'host', supportDir);
  await tryJail(jail, supportDir);
  return jail;
}

/** Runs `true` in a jail as a sandbox would be run, so a machine that cannot do it fails now, with bubblewrap's reason. */
async function tryJail(jail: Jail, supportDir: string): Promise<void> {
  const trial = await jail.wrap(supportDir, { writable: [], readOnly: [] }, '/', ['true']);
  try {
    await run(trial.command, [...trial.args], { cwd: '/', timeout: 30_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new IsolationUnavailableError(stderr || (error as Error).message.split('\n')[0]!);
  }
}
