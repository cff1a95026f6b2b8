// The Temporal SDK runtime is process-wide and must be installed before the first
// NativeConnection. We install it without shutdown signals: the program, not the SDK,
// decides the order in which the worker, sandboxes and server stop. It also serves the
// Prometheus endpoint when one is asked for: it is the runtime's to serve, once per process.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogLevel, Logger } from '@temporalio/worker';
import { metricsBindAddress, prometheusTelemetry } from '../observability/metrics.js';

let installed = false;

export interface RuntimeOptions {
  /** Serve Prometheus metrics on this address (`host:port`, or a port on loopback); unset = no endpoint. */
  readonly metricsAddress?: string;
  /** Where the SDK's own log lines go. @default a DefaultLogger at the level given */
  readonly logger?: Logger;
}

/** The bind address the metrics endpoint got, if this call installed the runtime with one. */
export function installTemporalRuntime(level: 'debug' | 'info' | 'warn' | 'error' = 'info', options: RuntimeOptions = {}): string | undefined {
  if (installed) return undefined;
  installed = true;
  // The SDK is chatty at INFO (it lists every bundled module); keep it one step quieter.
  const sdkLevel = (level === 'debug' ? 'DEBUG' : level === 'info' ? 'WARN' : level.toUpperCase()) as LogLevel;
  const bindAddress = options.metricsAddress ? metricsBindAddress(options.metricsAddress) : undefined;
  Runtime.install({
    logger: options.logger ?? new DefaultLogger(sdkLevel),
    shutdownSignals: [],
    ...(bindAddress ? { telemetryOptions: prometheusTelemetry(bindAddress) } : {}),
  });
  return bindAddress;
}
