// The built-in shell agent (src/local-runtime/sandbox/): every user message runs as a bash
// command. It needs no Python and is up in about 0.3 s, hence the default. It listens on a
// port of its own choosing and announces it on stdout: {"event":"listening","port":N}.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { AgentLauncher, AgentRun, AgentSpec } from './agent.js';
import { runtimeFolder } from './agent.js';

const SANDBOX_MAIN = fileURLToPath(new URL('../sandbox/main.ts', import.meta.url));

export class ShellAgentLauncher implements AgentLauncher {
  readonly name = 'shell';

  async prepare(spec: AgentSpec): Promise<AgentRun> {
    const cwd = runtimeFolder(spec.workspaceDir, spec.workingDir);
    await mkdir(cwd, { recursive: true });
    return {
      command: process.execPath,
      args: ['--import', import.meta.resolve('tsx'), SANDBOX_MAIN],
      cwd,
      env: {
        SESSION_API_KEY: spec.sessionApiKey,
        // Conversations get their folders here whatever the working folder is.
        SANDBOX_WORKSPACE: spec.workspaceDir,
        SANDBOX_HOST: '127.0.0.1',
        SANDBOX_PORT: '0',
        ...(spec.commandTimeoutMs === undefined ? {} : { SANDBOX_COMMAND_TIMEOUT_MS: String(spec.commandTimeoutMs) }),
      },
      envDefaults: {},
      port: undefined,
      escapesGroup: false, // its commands stay in its process group
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
