// The CLI's live progress line: done, failed, running, rate and ETA. The rate is taken
// over the last minute of samples (a batch's first seconds and a worker's restart would
// skew a rate since the start), and the ETA follows from it.
import type { BatchProgress } from '../workflows/batch/messages.js';

const WINDOW_MS = 60_000;

export class ProgressMeter {
  readonly #samples: Array<{ at: number; done: number }> = [];

  /** Adds a reading; returns items per second over the window (0 until two readings). */
  sample(progress: BatchProgress, now = Date.now()): number {
    const done = progress.succeeded + progress.failed;
    this.#samples.push({ at: now, done });
    while (this.#samples.length > 2 && now - (this.#samples[0] as { at: number }).at > WINDOW_MS) this.#samples.shift();
    const first = this.#samples[0] as { at: number; done: number };
    const seconds = (now - first.at) / 1000;
    return seconds > 0 ? (done - first.done) / seconds : 0;
  }
}

export function progressLine(progress: BatchProgress, rate: number, width = 30): string {
  const done = progress.succeeded + progress.failed;
  const filled = progress.total === 0 ? width : Math.round((done / progress.total) * width);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
  const left = progress.total - done;
  const eta = progress.finishedAt ? 'finished' : rate > 0 ? `ETA ${formatSeconds(left / rate)}` : 'ETA —';
  return `[${bar}] ${done}/${progress.total} done, ${progress.failed} failed, ${progress.running} running, ${rate.toFixed(1)}/s, ${eta}`;
}

function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
