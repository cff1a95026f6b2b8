// The built-in shell agent (src/local-runtime/sandbox/): every user message runs as a bash
// command. It needs no Python and is up in a fraction of a second, hence the default. It
// runs as one bundled file (../bundle.ts), listens on a port of its own choosing (or, in a
// private network, a fixed one) and announces it on stdout: {"event":"listening","port":N}.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { AgentLauncher, AgentRun, AgentSpec } from './agent.js';
import { runtimeFolder } from './agent.js';

export const SHELL_AGENT_MAIN = fileURLToPath(new URL('../sandbox/main.ts', import.meta.url));

/** Its port in a network namespace of its own, where every port is free. */
const PRIVATE_NETWORK_PORT = 8000;

export class ShellAgentLauncher implements AgentLauncher {
  readonly name = 'shell';

  /** `bundle`: the agent (SHELL_AGENT_MAIN), bundled. */
  constructor(private readonly bundle: string) {}

  async prepare(spec: AgentSpec): Promise<AgentRun> {
    const cwd = runtimeFolder(spec.workspaceDir, spec.workingDir);
    const { bundle } = this;
    await mkdir(cwd, { recursive: true });
    return {
      command: process.execPath,
      args: [bundle],
      cwd,
      env: {
        SESSION_API_KEY: spec.sessionApiKey,
        // Conversations get their folders here whatever the working folder is.
        SANDBOX_WORKSPACE: spec.workspaceDir,
        SANDBOX_HOST: '127.0.0.1',
        SANDBOX_PORT: spec.privateNetwork ? String(PRIVATE_NETWORK_PORT) : '0',
        ...(spec.commandTimeoutMs === undefined ? {} : { SANDBOX_COMMAND_TIMEOUT_MS: String(spec.commandTimeoutMs) }),
      },
      envDefaults: {},
      port: spec.privateNetwork ? PRIVATE_NETWORK_PORT : undefined,
      escapesGroup: false, // its commands stay in its process group
      mounts: { writable: [spec.workspaceDir], readOnly: [process.execPath, bundle] },
      cleanup: async () => {},
    };
  }

  listeningPort(line: string): number | undefined {
    if (!line.startsWith('{')) return undefined;
    try {
      const parsed = JSON.parse(line) as { event?: unknown; port?: unknown };
      return parsed.event === 'listening' && typeof parsed.port === 'number' ? parsed.port : undefined;
    } catch {
      return undefined;
    }
  }
}
