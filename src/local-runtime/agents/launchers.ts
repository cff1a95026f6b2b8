// The agents a local Runtime API server can run. The OpenHands agent server is resolved
// (and the first time installed, which takes minutes) once per server: at start-up when it
// is the default agent, so a missing one stops the server with the list of what was tried,
// else on the first /start that asks for it.
import type { ResolvedAgentServer } from '../../tools/agent-server.js';
import { PROJECT_TOOLS_DIR, resolveAgentServer } from '../../tools/agent-server.js';
import { bundle } from '../bundle.js';
import type { LogFn } from '../drivers/driver.js';
import type { AgentLaunchers, AgentName } from './agent.js';
import { OpenHandsAgentLauncher } from './openhands.js';
import { SHELL_AGENT_MAIN, ShellAgentLauncher } from './shell.js';

export interface AgentOptions {
  /** What a runtime runs unless its `/start` request picks another. @default 'shell' */
  readonly agent?: AgentName;
  readonly openhands?: {
    /**
     * The server, or how to find it (called at most once).
     * @default find it without installing: OPENHANDS_AGENT_SERVER_PATH's rules minus the variable, in the project's .tools/
     */
    readonly server?: ResolvedAgentServer | (() => Promise<ResolvedAgentServer>);
    /** OH_MAX_CONCURRENT_RUNS per runtime. @default DEFAULT_MAX_CONCURRENT_RUNS */
    readonly maxConcurrentRuns?: number;
  };
}

/** `bundleDir`: a folder of the server's for the shell agent's bundle. */
export async function createLaunchers(options: AgentOptions, log: LogFn, bundleDir: string): Promise<AgentLaunchers> {
  const given = options.openhands?.server;
  const find = typeof given === 'function' ? given : given ? async () => given : () => resolveAgentServer({ toolsDir: PROJECT_TOOLS_DIR, install: false, log });
  let found: Promise<ResolvedAgentServer> | undefined;
  // A failure is remembered too: retrying a failed install on every start would cost minutes each.
  const server = () =>
    (found ??= find().then((resolved) => {
      log(`openhands-agent-server ${resolved.version} (${resolved.source}): ${[resolved.command, ...resolved.args].join(' ')}`);
      return resolved;
    }));
  if (options.agent === 'openhands') await server();
  return {
    // Built now, not at a first /start: a sandbox stopped meanwhile would leave it half-written.
    shell: new ShellAgentLauncher(await bundle(SHELL_AGENT_MAIN, 'shell-agent', bundleDir)),
    openhands: new OpenHandsAgentLauncher({ server, maxConcurrentRuns: options.openhands?.maxConcurrentRuns }),
  };
}
