// Fault injection for the local Runtime API: slow starts, crash loops, flaky or hanging
// endpoints and pods that never become ready. Off by default. The same shape is accepted as
// JSON (env RUNTIME_API_FAULTS), so a test or benchmark can configure a spawned server too.
import { z } from 'zod';
import { HttpError } from '../http-server/errors.js';

/** An endpoint key is the method and the first path segment: `POST /start`, `GET /runtime`. */
const endpointKeySchema = z.string().regex(/^[A-Z]+ \/[A-Za-z0-9_.-]*$/, 'expected e.g. "POST /start"');

export const faultOptionsSchema = z
  .object({
    /** Delay before a sandbox starts listening (its pod goes ready only afterwards). @default 0 */
    startDelayMs: z.number().int().nonnegative().optional(),
    /** Every sandbox exits right after it is spawned: restarts, then `crashloopbackoff`. */
    crashOnStart: z.boolean().optional(),
    /** Answer a share of the requests to some endpoints with an error status. */
    errorRate: z
      .object({
        endpoints: z.array(endpointKeySchema),
        rate: z.number().min(0).max(1),
        /** @default 500 */
        status: z.number().int().min(400).max(599).optional(),
      })
      .optional(),
    /** Requests to these endpoints are never answered (until the client gives up or the server closes). */
    hangEndpoints: z.array(endpointKeySchema).optional(),
    /** Pods stay `running` and never become `ready`. */
    neverReady: z.boolean().optional(),
  })
  .strict();
export type FaultOptions = z.infer<typeof faultOptionsSchema>;

/** Parses the JSON form (e.g. `{"startDelayMs":150,"errorRate":{"endpoints":["POST /start"],"rate":0.1}}`). */
export function parseFaults(json: string | undefined): FaultOptions {
  if (json === undefined || json.trim() === '') return {};
  return faultOptionsSchema.parse(JSON.parse(json));
}

/** The key faults are configured by, for a route pattern such as `/runtime/:runtime_id`. */
export function endpointKey(method: string, path: string): string {
  const first = path.split('/').find((segment) => segment !== '') ?? '';
  return `${method} /${first}`;
}

export class FaultInjector {
  readonly #faults: FaultOptions;
  readonly #random: () => number;
  readonly #closing = new AbortController();

  constructor(faults: FaultOptions = {}, random: () => number = Math.random) {
    this.#faults = faultOptionsSchema.parse(faults);
    this.#random = random;
  }

  get startDelayMs(): number {
    return this.#faults.startDelayMs ?? 0;
  }
  get crashOnStart(): boolean {
    return this.#faults.crashOnStart ?? false;
  }
  get neverReady(): boolean {
    return this.#faults.neverReady ?? false;
  }

  /**
   * Applies request faults for `key`: hangs until `release()` (then throws, and the caller's
   * connection is torn down with the server), or throws an injected HttpError.
   */
  async onRequest(key: string): Promise<void> {
    if (this.#faults.hangEndpoints?.includes(key)) {
      await new Promise<void>((resolve) => {
        if (this.#closing.signal.aborted) resolve();
        else this.#closing.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      throw new HttpError(503, `injected fault: hang on ${key} ended by server shutdown`);
    }
    const errorRate = this.#faults.errorRate;
    if (errorRate?.endpoints.includes(key) && this.#random() < errorRate.rate) {
      throw new HttpError(errorRate.status ?? 500, `injected fault: errorRate on ${key}`);
    }
  }

  /** Ends every hanging request; called when the server closes. */
  release(): void {
    this.#closing.abort();
  }
}
