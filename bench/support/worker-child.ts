// Entry of the benchmark's child-process worker (see worker-host.ts). Settings come in
// BENCH_WORKER; the parent asks for memory readings and for a stop over the IPC channel.
import type { WorkerSettings } from './worker-host.js';
import { memoryNow, runWorker } from './worker-host.js';
import { deliveredAt } from './ceiling-activities.js';

const send = (message: object) => process.send?.(message);

try {
  const running = await runWorker(JSON.parse(process.env.BENCH_WORKER ?? '') as WorkerSettings);
  let stopping: Promise<void> | undefined;
  const stop = () => void (stopping ??= running.stop()).finally(() => process.exit(0));
  process.on('message', (message: { type: string }) => {
    if (message.type === 'memory') send({ type: 'memory', ...memoryNow() });
    if (message.type === 'deliveries') send({ type: 'deliveries', deliveries: Object.fromEntries(deliveredAt) });
    if (message.type === 'stop') stop();
  });
  // The parent going away (even by SIGKILL) closes the channel: stop rather than linger.
  process.on('disconnect', stop);
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'failed', error: String(error) });
  process.exit(1);
}
