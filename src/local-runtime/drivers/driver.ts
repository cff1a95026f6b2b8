// What the Runtime API server needs from a way of running sandboxes. One instance is one
// run of a sandbox: the server restarts a crashed sandbox by starting a new instance, so a
// driver never restarts anything itself.

export type DriverName = 'process' | 'inproc';
export type LogFn = (line: string) => void;

export interface SandboxSpec {
  readonly runtimeId: string;
  readonly sessionApiKey: string;
  readonly workspaceDir: string;
  /** The `/start` request's `environment`; only a process sandbox can receive it. */
  readonly environment: Readonly<Record<string, string>>;
  readonly commandTimeoutMs: number | undefined;
  /** Injected: wait this long before the sandbox starts listening. */
  readonly startDelayMs: number;
  /** Injected: the sandbox exits right after it is spawned. */
  readonly crashOnStart: boolean;
}

/** Where a sandbox's agent answers: a loopback port, or a socket file when its network is its own. */
export type SandboxAddress = { readonly port: number; readonly socketPath?: undefined } | { readonly socketPath: string; readonly port?: undefined };

export interface SandboxInstance {
  /** Resolves once the sandbox exists (its pod is `running`); rejects if it could not be created. */
  readonly spawned: Promise<void>;
  /** Resolves with its address once the sandbox listens; rejects if it ended first. */
  readonly listening: Promise<SandboxAddress>;
  /** The sandbox's OS process (and process group) id; undefined for in-process sandboxes. */
  readonly pid: number | undefined;
  /** Freezes the sandbox and every command it runs. */
  pause(): void;
  resume(): void;
  /** Ends the sandbox and everything it started; resolves once all of it is gone. */
  stop(graceMs: number): Promise<void>;
}

export interface SandboxDriver {
  readonly name: DriverName;
  /**
   * Starts one sandbox. `onExit` reports an end that `stop()` did not cause (a crash), with a
   * reason such as "exited with code 1"; it is called at most once.
   */
  start(spec: SandboxSpec, onExit: (reason: string) => void): SandboxInstance;
  /** Last resort when the server's own process exits: kill every sandbox, synchronously. */
  killAllSync(): void;
}

/** A settled-later promise whose rejection is never reported as unhandled. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
