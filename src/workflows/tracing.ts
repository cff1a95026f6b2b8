// One message, one trace. The client's span reaches the workflow in the update's (or
// signal's) headers, and the handler runs inside a span continuing it; but delivery
// happens later, in the main loop, whose context is the run's. So the handler keeps the
// span context with the queued message, and the loop schedules that message's activities
// inside it: the OpenTelemetry workflow interceptor then passes it on in their headers.
// Span contexts are IDs only (no message text), and plain JSON, so they survive
// continue-as-new with the queue.
import { ROOT_CONTEXT, context, isSpanContextValid, trace } from '@opentelemetry/api';

export interface MessageTrace {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

/** The span context the current handler runs in, if any. */
export function currentTrace(): MessageTrace | undefined {
  const span = trace.getSpanContext(context.active());
  if (!span || !isSpanContextValid(span)) return undefined;
  return { traceId: span.traceId, spanId: span.spanId, traceFlags: span.traceFlags };
}

/** Runs `fn` (which schedules activities) as part of the message's trace; as it is without one. */
export function withinTrace<T>(messageTrace: MessageTrace | undefined, fn: () => T): T {
  if (!messageTrace) return fn();
  return context.with(trace.setSpanContext(ROOT_CONTEXT, { ...messageTrace, isRemote: true }), fn);
}
