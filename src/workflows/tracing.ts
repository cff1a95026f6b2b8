// One message, one trace. The client's span reaches the workflow in the update's (or
// signal's) headers, and the handler runs inside a span continuing it; but delivery
// happens later, in the main loop, whose context is the run's. So the handler keeps the
// span context with the queued message, and the loop schedules that message's activities
// inside it: the OpenTelemetry workflow interceptor then passes it on in their headers.
// Span contexts are IDs only (no message text), and plain JSON, so they survive
// continue-as-new with the queue.
//
// An untraced run (tracing-interceptors.ts) has no span to keep or pass on, so it does not
// load the OpenTelemetry API either: one module tree fewer evaluated per workflow, which is
// what a replay of a conversation that left the worker's cache pays first.
import type * as OpenTelemetryApi from '@opentelemetry/api';
import { runIsTraced } from './tracing-interceptors.js';

export interface MessageTrace {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

/** The span context the current handler runs in, if any. */
export function currentTrace(): MessageTrace | undefined {
  if (!runIsTraced()) return undefined;
  const { context, isSpanContextValid, trace } = openTelemetryApi();
  const span = trace.getSpanContext(context.active());
  if (!span || !isSpanContextValid(span)) return undefined;
  return { traceId: span.traceId, spanId: span.spanId, traceFlags: span.traceFlags };
}

/** Runs `fn` (which schedules activities) as part of the message's trace; as it is without one. */
export function withinTrace<T>(messageTrace: MessageTrace | undefined, fn: () => T): T {
  if (!messageTrace || !runIsTraced()) return fn();
  const { ROOT_CONTEXT, context, trace } = openTelemetryApi();
  return context.with(trace.setSpanContext(ROOT_CONTEXT, { ...messageTrace, isRemote: true }), fn);
}

/** Required, not imported: webpack then evaluates the API only in a run that uses it. */
function openTelemetryApi(): typeof OpenTelemetryApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@opentelemetry/api') as typeof OpenTelemetryApi;
}
