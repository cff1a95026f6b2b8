// One real OpenHands agent server process for a test: `python -m openhands.agent_server` (or
// its `agent-server` script) in its own folder — it keeps conversations under ./workspace —
// with its own port, session key and TMUX_TMPDIR, so close() ends exactly the tmux servers
// its terminals started (they are daemons: they outlive a killed server).
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '../../src/temporal/dev-server.js';

// TODO(agent-server install): drop this fallback once scripts/test.ts sets
// OPENHANDS_AGENT_SERVER_PATH from the project-local installation (src/tools/agent-server.ts).
const FALLBACK_PYTHON = '/tmp/ohs/venv/bin/python';
const SESSION_KEY = 'agent-session-key';

export interface RealAgentServer {
  readonly url: string;
  /** One JSON call with the session key; `body` is the parsed JSON answer. */
  api(method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** SIGTERM (the server pauses and closes its conversations), then the tmux servers left. */
  close(): Promise<void>;
}

export async function startRealAgentServer(options: { dir: string; readyTimeoutMs?: number }): Promise<RealAgentServer> {
  const { command, args } = await serverCommand();
  const port = await freePort();
  const child = spawn(command, [...args, '--host', '127.0.0.1', '--port', String(port)], {
    cwd: options.dir,
    env: {
      ...process.env,
      // Without it litellm downloads its model price map at import.
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
      OH_SESSION_API_KEYS_0: SESSION_KEY,
      TMUX_TMPDIR: options.dir,
      // The terminal's interactive bash reads ~/.bashrc, which may hang (a stale pyenv lock): a home of its own.
      HOME: options.dir,
      OPENHANDS_SUPPRESS_BANNER: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;

  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      // Shutdown waits for a running step to end; none should be running by now.
      if ((await Promise.race([exited.then(() => 'exited'), sleep(30_000)])) !== 'exited') {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await killTmuxServers(options.dir);
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 180_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the agent server (${command}) exited before it was ready:\n${output}`);
    const ready = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`the agent server (${command}) was not ready within ${options.readyTimeoutMs ?? 180_000} ms:\n${output}`);
    }
    await sleep(250);
  }

  return {
    url,
    close,
    api: async (method, route, body) => {
      const response = await fetch(`${url}${route}`, {
        method,
        headers: { 'x-session-api-key': SESSION_KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    },
  };
}

/** A python runs the module; the `agent-server` console script (a `#!` file) runs as is. */
async function serverCommand(): Promise<{ command: string; args: string[] }> {
  const file = process.env.OPENHANDS_AGENT_SERVER_PATH || FALLBACK_PYTHON;
  let head: string;
  try {
    const handle = await open(file, 'r');
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    await handle.close();
    head = buffer.subarray(0, bytesRead).toString();
  } catch (error) {
    throw new Error(
      `no OpenHands agent server at ${file}: set OPENHANDS_AGENT_SERVER_PATH to a python with openhands-agent-server 1.58.2 installed, or to its agent-server script`,
      { cause: error },
    );
  }
  return head === '#!' ? { command: file, args: [] } : { command: file, args: ['-m', 'openhands.agent_server'] };
}

/** tmux puts its sockets in $TMUX_TMPDIR/tmux-<uid>/; the terminal tool names them openhands-*. */
async function killTmuxServers(dir: string): Promise<void> {
  const socketDir = path.join(dir, `tmux-${process.getuid?.() ?? 0}`);
  const sockets = await readdir(socketDir).catch(() => [] as string[]);
  const tmux = promisify(execFile);
  await Promise.all(
    sockets
      .filter((name) => name.startsWith('openhands-'))
      .map((name) => tmux('tmux', ['-S', path.join(socketDir, name), 'kill-server']).catch(() => undefined)),
  );
}
