// OpenTelemetry traces from the client through the workflow and its activities down to
// the HTTP calls (observability/http-calls.ts), joined by the Temporal interceptors of
// @temporalio/interceptors-opentelemetry: the client puts its span's context into the
// start, signal or update headers, the workflow's spans continue it and pass it on in
// each activity's headers, and the activity's span is the parent of its HTTP calls, which
// send it on as `traceparent`. Off (no provider, no interceptors) unless a collector is
// configured or a test hands in its own span processor.
import { fileURLToPath } from 'node:url';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkerInterceptors, WorkerOptions } from '@temporalio/worker';

type WorkerSinks = NonNullable<WorkerOptions['sinks']>;

/**
 * In every workflow bundle, traced or not, so that one bundle serves both and a history
 * replays the same way whichever worker recorded it (the interceptors are behind a patch:
 * see workflows/tracing-interceptors.ts). Untraced, the workflow's spans have no parent and
 * go to a sink that drops them.
 */
export const WORKFLOW_INTERCEPTOR_MODULES = ['../workflows/tracing-interceptors.ts', '../workflows/log-attributes.ts'].map((file) => fileURLToPath(new URL(file, import.meta.url)));

export interface Tracing {
  readonly clientInterceptors: WorkflowClientInterceptor[];
  readonly workerInterceptors: WorkerInterceptors;
  /** The sink the workflow interceptors hand their finished spans to. */
  readonly sinks: WorkerSinks;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** OTLP/HTTP collector base URL (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to its /v1/traces. */
  readonly otlpEndpoint?: string;
  /** Instead of a collector (tests: an in-memory exporter behind a SimpleSpanProcessor). */
  readonly spanProcessor?: SpanProcessor;
  /** @default 'durable-conversations' */
  readonly serviceName?: string;
}

/** The sink a worker registers when it does not trace: the workflow interceptors still export into it. */
export const UNTRACED_SINKS: WorkerSinks = { exporter: { export: { fn: () => undefined } } };

/** Registers the process-wide tracer provider and returns what clients and workers add; undefined when tracing is off. */
export function startTracing(options: TracingOptions): Tracing | undefined {
  const processor = options.spanProcessor ?? (options.otlpEndpoint ? new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(options.otlpEndpoint) })) : undefined);
  if (!processor) return undefined;
  const resource = new Resource({ 'service.name': options.serviceName ?? 'durable-conversations' });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable(), propagator: new W3CTraceContextPropagator() });
  return {
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor()],
    workerInterceptors: {
      client: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
    },
    sinks: { exporter: makeWorkflowExporter(processor, resource) },
    shutdown: () => provider.shutdown(),
  };
}

/** The OTLP/HTTP convention: the endpoint variable names the collector; traces go to its /v1/traces. */
function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}
