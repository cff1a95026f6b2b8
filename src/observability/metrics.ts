// The worker's Prometheus endpoint and the one product metric no single workflow can
// keep: how many conversations are in each state. The SDK's Core runtime serves
// /metrics (its own worker metrics and ours, made through its metric meter); this module
// gives it the options and keeps the by-status gauge.
import type { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import type { TelemetryOptions } from '@temporalio/worker';
import { WorkflowMetric } from '../workflows/metrics.js';
import type { ConversationStatus } from '../workflows/state.js';
import { HttpMetric } from './http-calls.js';

export const CONVERSATIONS_GAUGE = 'conversations';
const CONVERSATION_STATUSES: readonly ConversationStatus[] = ['STARTING', 'RUNNING', 'STOPPED', 'ARCHIVED', 'ERROR'];

/** Seconds-scale buckets: provisioning takes 0.1 s (inproc) to minutes (a real agent server on a busy host). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * Prometheus conventions: counters end in `_total`, Core's histograms carry their unit and
 * measure seconds. Our histograms already name their unit and record seconds.
 */
export function prometheusTelemetry(bindAddress: string): TelemetryOptions {
  const histograms = [WorkflowMetric.provisioningDuration, WorkflowMetric.deliveryLatency, WorkflowMetric.turnDuration, HttpMetric.duration];
  return {
    metrics: {
      prometheus: {
        bindAddress,
        countersTotalSuffix: true,
        unitSuffix: true,
        useSecondsForDurations: true,
        histogramBucketOverrides: Object.fromEntries(histograms.map((name) => [name, DURATION_BUCKETS])),
      },
    },
  };
}

/** `9464` or `:9464` means loopback; `host:port` is taken as given. */
export function metricsBindAddress(setting: string): string {
  const port = /^:?(\d+)$/.exec(setting)?.[1];
  return port ? `127.0.0.1:${port}` : setting;
}

export interface StatusGaugeOptions {
  readonly client: Client;
  readonly meter: MetricMeter;
  /** Only conversations on this task queue: one deployment's worker reports its own. */
  readonly taskQueue: string;
  /** @default 15 s */
  readonly intervalMs?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Sets `conversations{status}` from visibility counts of open runs, now and then every
 * interval. Derived from the server rather than from events, it is right after a worker
 * restart and with any number of workers (each reports the same figure: aggregate with
 * max, not sum). The figure lags a status change by up to one interval plus the
 * visibility store's own delay.
 */
export function startStatusGauge(options: StatusGaugeOptions): { refresh(): Promise<void>; stop(): void } {
  // The name goes into a visibility query as a string literal.
  if (/['"\\]/.test(options.taskQueue)) throw new Error(`task queue ${JSON.stringify(options.taskQueue)}: quotes and backslashes cannot be counted by status`);
  const gauge = options.meter.createGauge(CONVERSATIONS_GAUGE, 'int', undefined, 'open conversations by status, from visibility counts');
  const refresh = async () => {
    const counts = await Promise.all(
      CONVERSATION_STATUSES.map(async (status) => {
        const query = `WorkflowType = 'conversationWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${options.taskQueue}' AND ConversationStatus = '${status}'`;
        return [status, (await options.client.workflow.count(query)).count] as const;
      }),
    );
    for (const [status, count] of counts) gauge.set(count, { status });
  };
  let running: Promise<void> | undefined;
  const tick = () => {
    running ??= refresh()
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => (running = undefined));
  };
  tick();
  const timer = setInterval(tick, options.intervalMs ?? 15_000);
  timer.unref();
  return { refresh, stop: () => clearInterval(timer) };
}
