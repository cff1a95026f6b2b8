// The admission workflow: one per user (ID `admission-user-<userId>`), the single owner
// of that user's slots, so two starts racing on two workers are decided one after the
// other and the limit cannot be overshot. Conversations ask for a slot before they
// provision or resume a runtime and give it back once it is paused or stopped; the
// slot of one that ended without giving it back (terminated) is reclaimed by checking
// the holders. Continues as new when the server suggests it, carrying its plain-JSON state.
import { allHandlersFinished, condition, continueAsNew, workflowInfo } from '@temporalio/workflow';
import { installAdmissionHandlers } from './handlers.js';
import type { AdmissionSettings } from './messages.js';
import { serveQueue } from './serve.js';
import { initialAdmissionState } from './state.js';
import type { AdmissionState } from './state.js';

export interface UserAdmissionInput {
  readonly userId: string;
  readonly settings: AdmissionSettings;
  /** Set only when the workflow continues as new. */
  readonly state?: AdmissionState;
}

/**
 * While conversations wait, the holders are checked this often even if nothing happens:
 * a holder that was terminated never says so, and a missed notice must not stall the queue.
 */
const RECHECK_WHILE_WAITING = '10s';

export async function userAdmissionWorkflow(input: UserAdmissionInput): Promise<never> {
  const state = input.state ?? initialAdmissionState(input.userId, input.settings);
  let woken = state.queue.length > 0;
  installAdmissionHandlers(state, () => (woken = true));
  for (;;) {
    const wake = () => woken || workflowInfo().continueAsNewSuggested;
    const happened = state.queue.length > 0 ? await condition(wake, RECHECK_WHILE_WAITING) : (await condition(wake), true);
    if (!happened) {
      state.reconcileDue = true;
      // A holder asked to say when it is quiet may never have heard it: look at each again.
      for (const holder of state.holders) holder.watched = false;
    }
    woken = false;
    await serveQueue(state);
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof userAdmissionWorkflow>({ userId: state.userId, settings: state.settings, state });
    }
  }
}
