// The walls around one sandbox: bubblewrap namespaces. Agent code is written by an LLM,
// often from untrusted input, so it must not read what the machine holds for everyone else:
// the Runtime API key, other workspaces, the worker's environment, the project.
//
// Each sandbox gets:
// - a mount namespace that shows the system's programs and libraries read-only, its own
//   workspace writable, the few paths its agent needs read-only (each at its own path), a
//   private /tmp, /proc and /dev, and nothing else: no /home, /root, /work, /var, /run;
// - a PID namespace, so /proc lists only its own processes, and everything in it dies with
//   its first process (and that one with us: --die-with-parent);
// - an unprivileged user of its own when we run as root: bubblewrap builds the jail as root
//   (it must reach the workspace through folders only we may enter) and `setpriv` drops to
//   that user, every capability and any way back (no_new_privs) before the agent starts;
//   when we are not root, a user namespace in which it is us, without capabilities;
// - a UTS namespace with its own hostname, and IPC and cgroup namespaces;
// - with the `none` network policy, a network namespace with only loopback.
import { createHash } from 'node:crypto';
import { lchown, lstat, mkdir, readdir, readlink, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../bundle.js';

const SOCKET_RELAY_MAIN = fileURLToPath(new URL('./socket-relay.ts', import.meta.url));

export const ISOLATION_MODES = ['namespaces', 'off'] as const;
export type IsolationMode = (typeof ISOLATION_MODES)[number];
export const NETWORK_POLICIES = ['host', 'none'] as const;
export type NetworkPolicy = (typeof NETWORK_POLICIES)[number];

/** The hostname every sandbox sees; /etc/hostname and /etc/hosts say the same. */
export const SANDBOX_HOSTNAME = 'sandbox';

/**
 * Sandbox users are taken from a range far above the ids people and system services get
 * (and above the 100000+ ranges /etc/subuid hands out), one per workspace, so that files a
 * sandbox leaves in its workspace belong to it again on its next run.
 */
const SANDBOX_UID_BASE = 1_500_000_000;
const SANDBOX_UID_RANGE = 1 << 24;

/** The machine's own folders a program needs, read-only. /etc is there with its hostname files replaced. */
const SYSTEM_FOLDERS = ['/usr', '/etc'];
/** On merged-/usr systems these are symlinks into /usr; elsewhere real folders. */
const SYSTEM_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** What one sandbox may reach of the machine, besides the system folders. */
export interface JailMounts {
  /** Its own folders (the workspace first); made its user's when it has one. */
  readonly writable: readonly string[];
  /** What its agent runs: executables, their libraries. */
  readonly readOnly: readonly string[];
}

export interface JailedCommand {
  readonly command: string;
  readonly args: readonly string[];
}

export class Jail {
  /**
   * `bwrap`: the bubblewrap executable. `supportDir`: a folder of ours for the files the
   * jails share (their /etc/hostname and /etc/hosts); it is never shown to a sandbox.
   */
  private constructor(
    readonly bwrap: string,
    readonly network: NetworkPolicy,
    private readonly supportDir: string,
    private readonly etcFiles: { readonly hostname: string; readonly hosts: string },
    private readonly system: readonly string[],
    /** The socket relay's bundle, with a network of their own. */
    private readonly relayScript: string | undefined,
  ) {}

  static async create(bwrap: string, network: NetworkPolicy, supportDir: string): Promise<Jail> {
    await mkdir(supportDir, { recursive: true });
    const hostname = path.join(supportDir, 'hostname');
    const hosts = path.join(supportDir, 'hosts');
    await writeFile(hostname, `${SANDBOX_HOSTNAME}\n`);
    await writeFile(hosts, `127.0.0.1\tlocalhost ${SANDBOX_HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
    const relayScript = network === 'none' ? await bundle(SOCKET_RELAY_MAIN, 'socket-relay', path.join(supportDir, 'programs')) : undefined;
    return new Jail(bwrap, network, supportDir, { hostname, hosts }, await systemMounts(), relayScript);
  }

  /**
   * With a network of its own, a sandbox's agent is reached through a relay inside it that
   * listens on a socket file, in a folder of its own that we can reach too.
   */
  async relayFor(runtimeId: string, port: number): Promise<{ mounts: JailMounts; env: Record<string, string>; address: { socketPath: string } }> {
    const folder = path.join(this.supportDir, 'sockets', runtimeId);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const socketPath = path.join(folder, 'agent.sock');
    const script = this.relayScript!;
    return {
      mounts: { writable: [folder], readOnly: [process.execPath, script] },
      env: { DC_RELAY_NODE: process.execPath, DC_RELAY_SCRIPT: script, DC_RELAY_SOCKET: socketPath, DC_RELAY_PORT: String(port) },
      address: { socketPath },
    };
  }

  /** The unprivileged user a workspace's sandbox runs as, or undefined when we are not root (then it is us). */
  userFor(workspaceDir: string): number | undefined {
    if (process.getuid?.() !== 0) return undefined;
    const digest = createHash('sha256').update(path.resolve(workspaceDir)).digest();
    return SANDBOX_UID_BASE + (digest.readUInt32BE(0) % SANDBOX_UID_RANGE);
  }

  /**
   * Gives the sandbox's writable folders to its user: each folder, and what in it belongs
   * to us (the folders its launcher just made, or a workspace from before isolation). What
   * the sandbox made is its user's already, and is not walked.
   */
  async prepare(workspaceDir: string, mounts: JailMounts): Promise<void> {
    const uid = this.userFor(workspaceDir);
    if (uid === undefined) return;
    for (const folder of mounts.writable) await giveTo(folder, uid, process.getuid?.() ?? 0);
  }

  /** `argv` run inside the jail, working in `cwd`. */
  async wrap(workspaceDir: string, mounts: JailMounts, cwd: string, argv: readonly string[]): Promise<JailedCommand> {
    const uid = this.userFor(workspaceDir);
    const args = [
      ...(uid === undefined
        ? // Agent code cannot make namespaces of its own: each is more kernel surface to attack.
          ['--unshare-user', '--disable-userns', '--cap-drop', 'ALL']
        : []),
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-cgroup-try',
      ...(this.network === 'none' ? ['--unshare-net'] : []),
      '--hostname',
      SANDBOX_HOSTNAME,
      // Our death (even SIGKILL) kills the sandbox, frozen or not: nothing runs on unowned.
      '--die-with-parent',
      // A new session: agent code cannot push keystrokes into a terminal of ours (TIOCSTI).
      '--new-session',
      ...this.system,
      '--ro-bind',
      this.etcFiles.hostname,
      '/etc/hostname',
      '--ro-bind',
      this.etcFiles.hosts,
      '/etc/hosts',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--perms',
      '1777',
      '--tmpfs',
      '/tmp',
    ];
    // Mounted after the private /tmp, so a folder under /tmp (tmux's) is mounted over it.
    const binds: string[] = [];
    for (const folder of mounts.writable) binds.push(...(await bind('--bind', folder)));
    for (const item of mounts.readOnly) binds.push(...(await bind('--ro-bind', item)));
    const mountList = withoutRedundantLinks(binds);
    args.push(...passable(mountList), ...mountList);
    args.push('--chdir', cwd, '--', ...(uid === undefined ? argv : dropTo(uid, argv)));
    return { command: this.bwrap, args };
  }
}

/** `argv` run as `uid` with no capability, no supplementary group, and no setuid program working. */
function dropTo(uid: number, argv: readonly string[]): string[] {
  const drop = [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs'];
  return ['setpriv', ...drop, '--', ...argv];
}

/** Hands `item` and, below it, everything still `ours` to `uid`; symlinks are changed, never followed. */
async function giveTo(item: string, uid: number, ours: number): Promise<void> {
  const stats = await lstat(item);
  if (stats.uid !== ours) return;
  await lchown(item, uid, uid);
  if (!stats.isDirectory()) return;
  for (const name of await readdir(item)) await giveTo(path.join(item, name), uid, ours);
}

/**
 * Mounts `item` at its own path. A path reached through symlinks is mounted at its real
 * path, and the symlinks on the way are recreated, so both names work inside.
 */
async function bind(kind: '--bind' | '--ro-bind', item: string): Promise<string[]> {
  const real = await realpath(item);
  const args = kind === '--ro-bind' && inSystemFolder(real) ? [] : [kind, real, real];
  let current = path.resolve(item);
  // Each symlinked component of the given path, outermost first, up to a sane depth. One in
  // a system folder is there already (and could not be made: those are read-only).
  for (let hops = 0; current !== real && hops < 8; hops += 1) {
    const link = await firstSymlink(current);
    if (!link) break;
    const target = path.resolve(path.dirname(link), await readlink(link));
    if (!inSystemFolder(link)) args.push('--symlink', target, link);
    current = path.join(target, path.relative(link, current));
  }
  return args;
}

/**
 * The mounts without the symlinks that are there already: one inside a mounted folder
 * comes with it (bubblewrap would fail on "File exists"), and two items reached through
 * the same link (a tools folder that is itself a symlink) would make it twice.
 */
function withoutRedundantLinks(binds: readonly string[]): string[] {
  const mounted: string[] = [];
  for (let i = 0; i + 3 <= binds.length; i += 3) if (binds[i] !== '--symlink') mounted.push(binds[i + 2]!);
  const made = new Set<string>();
  const kept: string[] = [];
  for (let i = 0; i + 3 <= binds.length; i += 3) {
    const [kind, source, destination] = [binds[i]!, binds[i + 1]!, binds[i + 2]!];
    if (kind === '--symlink') {
      if (made.has(destination) || mounted.some((folder) => destination.startsWith(`${folder}/`))) continue;
      made.add(destination);
    }
    kept.push(kind, source, destination);
  }
  return kept;
}

/**
 * The folders on the way to each mount, made open to pass through: bubblewrap would make them
 * as private as the folders they stand for, whose contents the sandbox is not shown anyway.
 */
function passable(binds: readonly string[]): string[] {
  const folders = new Set<string>();
  // Three words a mount: --bind/--ro-bind/--symlink, its source or target, its destination.
  for (let i = 0; i + 3 <= binds.length; i += 3) {
    for (let dir = path.dirname(binds[i + 2]!); dir !== path.dirname(dir) && !inSystemFolder(dir) && dir !== '/tmp'; dir = path.dirname(dir)) folders.add(dir);
  }
  return [...folders].sort().flatMap((dir) => ['--perms', '0755', '--dir', dir]);
}

const inSystemFolder = (file: string): boolean => SYSTEM_FOLDERS.some((folder) => file.startsWith(`${folder}/`));

/** The first component of `file` (from the root) that is a symlink. */
async function firstSymlink(file: string): Promise<string | undefined> {
  const parts = file.split(path.sep).filter(Boolean);
  let current: string = path.sep;
  for (const part of parts) {
    current = path.join(current, part);
    if ((await lstat(current)).isSymbolicLink()) return current;
  }
  return undefined;
}

/** Read-only mounts of the system's folders, and the links that merged-/usr systems have at the root. */
async function systemMounts(): Promise<string[]> {
  const args: string[] = [];
  for (const folder of SYSTEM_FOLDERS) args.push('--ro-bind', folder, folder);
  for (const name of SYSTEM_LINKS) {
    const stat = await lstat(name).catch(() => undefined);
    if (stat?.isSymbolicLink()) args.push('--symlink', await readlink(name), name);
    else if (stat?.isDirectory()) args.push('--ro-bind', name, name);
  }
  // /etc/resolv.conf is often a link into /run, which the sandbox does not see.
  const resolv = await realpath('/etc/resolv.conf').catch(() => undefined);
  if (resolv && !inSystemFolder(resolv)) args.push('--ro-bind', resolv, resolv);
  return args;
}
