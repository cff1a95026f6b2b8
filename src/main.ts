// `npm start`: the embedded default. Brings up Temporal (with its Web UI), the worker
// and the rest of the stack, prints where to look, and on Ctrl-C or SIGTERM stops it
// all in order so that nothing is left running.
import { loadConfigOrExit } from './config.js';
import { startStack } from './stack.js';

const log = (message: string) => console.log(`[durable-conversations] ${message}`);

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const stack = await startStack(config, { log });
  log(`Temporal ${stack.temporal.embedded ? 'dev server (embedded)' : 'server'} at ${stack.temporal.address}, namespace ${stack.temporal.namespace}`);
  if (stack.temporal.uiUrl) log(`Temporal UI: ${stack.temporal.uiUrl}`);
  log(`worker polling task queue "${config.TEMPORAL_TASK_QUEUE}" — press Ctrl-C to stop`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping…`);
    stack.stop().then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`[durable-conversations] failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
