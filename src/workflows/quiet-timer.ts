// The idle and retention timers, kept across the messages that wake the loop before they fire.
//
// The loop used to wait at each quiet point with `condition(hasWork, timeLeft)`: a timer
// started there and cancelled by the next message. That is two history events and a timer
// the server writes and deletes for every message, in every conversation. Since the patch
// `keep-quiet-timer` a message leaves the timer running. At the next quiet point the same
// timer serves if it is of the same kind and due no later than the new deadline (activity
// only moves the idle deadline on). When it fires before the deadline, the loop starts
// another one for the rest. So a busy conversation starts an idle timer about once per idle
// delay instead of twice per message. In the Temporal UI the pending timer shows its first
// due time, and a new one follows when it fires.
import { CancellationScope, condition, isCancellation, patched, sleep } from '@temporalio/workflow';

export const KEEP_QUIET_TIMER = 'keep-quiet-timer';

interface PendingTimer {
  readonly summary: string;
  readonly dueAt: number;
  readonly scope: CancellationScope;
  fired: boolean;
}

/** One per run: the timer it holds belongs to that run. */
export class QuietTimer {
  #pending: PendingTimer | undefined;

  /**
   * Waits until `hasWork()` or `deadline` (workflow time, epoch ms); true when work woke it.
   * `summary` names the timer in the UI, and tells one kind of timer from the other.
   */
  async wait(hasWork: () => boolean, deadline: number, summary: string): Promise<boolean> {
    // Runs recorded before the patch wait as they did.
    if (!patched(KEEP_QUIET_TIMER)) return condition(hasWork, Math.max(1, deadline - Date.now()), { summary });
    for (;;) {
      const timer = this.#timerFor(deadline, summary);
      await condition(() => hasWork() || timer.fired);
      if (hasWork()) return true;
      this.#pending = undefined;
      if (Date.now() >= deadline) return false;
      // It was due earlier than this deadline (set before the last activity): start one for the rest.
    }
  }

  #timerFor(deadline: number, summary: string): PendingTimer {
    const current = this.#pending;
    if (current && current.summary === summary && current.dueAt <= deadline) return current;
    // Another kind of wait, or a deadline moved earlier (a shorter policy): this one would be wrong.
    current?.scope.cancel();
    const scope = new CancellationScope();
    const timer: PendingTimer = { summary, dueAt: deadline, scope, fired: false };
    scope
      .run(() => sleep(Math.max(1, deadline - Date.now()), { summary }))
      .then(
        () => void (timer.fired = true),
        (error: unknown) => {
          // Cancelled by a later wait, or with the whole workflow (whose own await reports it).
          if (!isCancellation(error)) throw error;
        },
      );
    this.#pending = timer;
    return timer;
  }
}
