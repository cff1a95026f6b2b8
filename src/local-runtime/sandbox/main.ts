// Process entry of a sandbox: the 'process' driver runs
//   node --import tsx src/local-runtime/sandbox/main.ts
// and reads one line from stdout, {"event":"listening","port":<n>}, to learn the port.
// It stops (closing every command) on SIGTERM/SIGINT, or when its parent dies.
import { z } from 'zod';
import { startAgentServer } from './agent-server.js';

const envSchema = z.object({
  SESSION_API_KEY: z.string().optional().describe('Accepted X-Session-API-Key; unset or empty = no auth'),
  SANDBOX_WORKSPACE: z.string().min(1).describe('Folder holding one workspace subfolder per conversation'),
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(0).describe('Listen port; 0 = any free port'),
  SANDBOX_HOST: z.string().min(1).default('127.0.0.1').describe('Listen address'),
  SANDBOX_COMMAND_TIMEOUT_MS: z.coerce.number().int().positive().optional().describe('Time limit per command'),
  SANDBOX_OUTPUT_CAP_BYTES: z.coerce.number().int().positive().optional().describe('Captured output per command'),
});

const ORPHAN_CHECK_MS = 1000;

async function main(): Promise<void> {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) process.stderr.write(`sandbox: bad environment variable ${issue.path.join('.')}: ${issue.message}\n`);
    process.exit(2);
  }
  const env = parsed.data;
  // Commands get a scrubbed environment anyway; dropping the key here is defence in depth.
  delete process.env['SESSION_API_KEY'];
  const server = await startAgentServer({
    sessionApiKeys: env.SESSION_API_KEY ? [env.SESSION_API_KEY] : [],
    workspaceDir: env.SANDBOX_WORKSPACE,
    host: env.SANDBOX_HOST,
    port: env.SANDBOX_PORT,
    commandTimeoutMs: env.SANDBOX_COMMAND_TIMEOUT_MS,
    outputCapBytes: env.SANDBOX_OUTPUT_CAP_BYTES,
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`sandbox: close failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Only our parent knows our port and key: once it is gone (we were re-parented) nobody
  // can reach or stop us, so we stop ourselves rather than leak a sandbox and its commands.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, ORPHAN_CHECK_MS).unref();
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: server.port })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`sandbox: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
