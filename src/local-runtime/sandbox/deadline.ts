// A command's time limit, counted in running time rather than wall time. It is held while
// signalCommands keeps the command stopped, and it ignores gaps in which this whole process
// was stopped: the 'process' driver pauses a sandbox with SIGSTOP on its process group,
// which freezes our timers too, and a plain timer would kill every command the moment such
// a sandbox resumes.

/** Longest wait between checks: a frozen process loses at most one step plus the slack. */
const STEP_MS = 500;
/** Event-loop lag beyond the step that still counts as running time. */
const SLACK_MS = 250;

export class Deadline {
  readonly #onExpire: () => void;
  #timer: NodeJS.Timeout | undefined;
  #remainingMs: number;
  #since = 0;
  #stepMs = 0;
  #done = false;

  constructor(limitMs: number, onExpire: () => void) {
    this.#remainingMs = limitMs;
    this.#onExpire = onExpire;
    this.resume();
  }

  /** Stops the clock (the command was stopped). */
  hold(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#remainingMs -= this.#elapsed();
  }

  /** Restarts the clock where it was held. */
  resume(): void {
    if (this.#timer !== undefined || this.#done) return;
    this.#since = Date.now();
    this.#stepMs = Math.min(STEP_MS, Math.max(0, this.#remainingMs));
    this.#timer = setTimeout(() => this.#tick(), this.#stepMs);
  }

  clear(): void {
    this.#done = true;
    clearTimeout(this.#timer);
  }

  #tick(): void {
    this.#timer = undefined;
    this.#remainingMs -= this.#elapsed();
    if (this.#remainingMs > 0) return this.resume();
    this.#done = true;
    this.#onExpire();
  }

  #elapsed(): number {
    return Math.min(Date.now() - this.#since, this.#stepMs + SLACK_MS);
  }
}
