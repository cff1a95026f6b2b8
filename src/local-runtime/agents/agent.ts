// What runs inside a runtime: an agent server, started by the process driver from a plan
// its launcher makes for each run (command, environment, working folder, and how its port
// becomes known). Two agents sit side by side: the built-in shell agent and the real
// OpenHands agent server. Which one a runtime gets is decided once, at /start.
import path from 'node:path';
import type { StartRuntimeRequest } from '../../runtime-api/runtime-api-schemas.js';
import type { SandboxSpec } from '../drivers/driver.js';
import type { JailMounts } from '../isolation/jail.js';

export const AGENT_NAMES = ['shell', 'openhands'] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

/** What a runtime asks of its agent beyond the driver's SandboxSpec. */
export interface AgentChoice {
  readonly agent: AgentName;
  /** The `/start` request's `working_dir`, read inside the runtime's folder (see runtimeFolder). */
  readonly workingDir: string | undefined;
}

export type AgentSpec = SandboxSpec &
  AgentChoice & {
    /** The sandbox has a network namespace of its own (RUNTIME_NETWORK=none): any port is free in it. */
    readonly privateNetwork?: boolean;
  };

/** One run of an agent, as the process driver spawns it. */
export interface AgentRun {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** Set last, over the `/start` environment: keys, and what keeps runtimes apart. */
  readonly env: Readonly<Record<string, string>>;
  /** Set first: tuning that the `/start` environment may override. */
  readonly envDefaults: Readonly<Record<string, string>>;
  /** Chosen before the spawn; undefined when the agent announces it (see AgentLauncher.listeningPort). */
  readonly port: number | undefined;
  /**
   * The agent starts processes outside its process group (tmux servers call setsid), so a
   * group signal misses them: the driver tags the run's environment and signals by tag too.
   */
  readonly escapesGroup: boolean;
  /**
   * What the agent needs of the machine, for an isolated sandbox (isolation/jail.ts), where
   * nothing else is visible: its folders (writable) and what it runs (read-only).
   */
  readonly mounts: JailMounts;
  /** Called once the run has ended and its processes are gone (a stop or a crash). */
  cleanup(): Promise<void>;
}

export interface AgentLauncher {
  readonly name: AgentName;
  /** Plans one run: may resolve the agent's executable, create folders, pick a port. */
  prepare(spec: AgentSpec): Promise<AgentRun>;
  /** The port a line of the agent's stdout announces, if it announces one. */
  listeningPort(line: string): number | undefined;
}

/** The agents a server can run, by name. */
export type AgentLaunchers = Partial<Record<AgentName, AgentLauncher>>;

/**
 * The agent a `/start` request gets. A hosted Runtime API runs whatever image and command it
 * is sent; the local one has two agents, so it reads them as hints: a command that runs the
 * OpenHands agent server (as the V1 app server and the SDK send:
 * `/usr/local/bin/openhands-agent-server --port 60000`), or an image named openhands
 * (`ghcr.io/openhands/agent-server:…`), picks `openhands`; anything else gets the default.
 */
export function chooseAgent(request: Pick<StartRuntimeRequest, 'image' | 'command'>, fallback: AgentName): AgentName {
  const command = Array.isArray(request.command) ? request.command.join(' ') : (request.command ?? '');
  if (/(^|[\s/])(openhands-)?agent-server(\s|$)|openhands\.agent_server/.test(command)) return 'openhands';
  if (/openhands/i.test(request.image)) return 'openhands';
  return fallback;
}

/**
 * The folder an agent runs in: `working_dir` read as a path inside the runtime's own folder,
 * the way a container's working directory is a path inside its image. So `/workspace` and
 * `workspace` both mean `<runtime folder>/workspace`, and `..` cannot climb out.
 */
export function runtimeFolder(workspaceDir: string, workingDir: string | undefined): string {
  if (!workingDir) return workspaceDir;
  return path.resolve(workspaceDir, `.${path.posix.normalize(`/${workingDir}`)}`);
}
