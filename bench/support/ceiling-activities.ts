// The ceiling's one activity (see ceiling-workflow.ts): it only notes when it ran, so the
// benchmark can time signal → delivered for a workflow that does nothing else.
import { wallNow } from './history.js';

/** Message ID → when its activity ran (epoch ms), in the worker's process. */
export const deliveredAt = new Map<string, number>();

export const ceilingActivities = {
  async deliver(input: { messageId: string }): Promise<void> {
    deliveredAt.set(input.messageId, wallNow());
  },
};
export type CeilingActivities = typeof ceilingActivities;
