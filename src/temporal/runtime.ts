// The Temporal SDK runtime is process-wide and must be installed before the first
// NativeConnection. We install it without shutdown signals: the program, not the SDK,
// decides the order in which the worker, sandboxes and server stop.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogLevel } from '@temporalio/worker';

let installed = false;

export function installTemporalRuntime(level: 'debug' | 'info' | 'warn' | 'error' = 'info'): void {
  if (installed) return;
  installed = true;
  // The SDK is chatty at INFO (it lists every bundled module); keep it one step quieter.
  const sdkLevel = (level === 'debug' ? 'DEBUG' : level === 'info' ? 'WARN' : level.toUpperCase()) as LogLevel;
  Runtime.install({ logger: new DefaultLogger(sdkLevel), shutdownSignals: [] });
}
