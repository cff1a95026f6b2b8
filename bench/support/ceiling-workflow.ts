// The ceiling to compare conversations against (bundled only by bench/scale.ts): the
// least a workflow can do per message — take a signal, run one activity for it — on the
// same server, worker settings and payload codec as ConversationWorkflow.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { CeilingActivities } from './ceiling-activities.js';

export const pingSignal = defineSignal<[{ messageId: string }]>('ping');
export const stopSignal = defineSignal('stop');

const { deliver } = proxyActivities<CeilingActivities>({ startToCloseTimeout: '1m' });

export async function ceilingWorkflow(): Promise<void> {
  const queue: string[] = [];
  let stopping = false;
  setHandler(pingSignal, ({ messageId }) => void queue.push(messageId));
  setHandler(stopSignal, () => void (stopping = true));
  for (;;) {
    await condition(() => queue.length > 0 || stopping);
    if (queue.length === 0) return;
    await deliver({ messageId: queue.shift()! });
  }
}
