// What every call to the Runtime API or an agent server reports: a client span whose
// context goes out in the W3C `traceparent` header (so the trace reaches into the agent
// server), and, when the call is made by an activity, its latency and errors through the
// activity's metric meter (which tags them with the activity type, namespace and task
// queue). Outside an activity (the CLI, the client's info lookups) only the span is made;
// with no tracer provider registered that span is a no-op.
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { asyncLocalStorage as activityContext } from '@temporalio/activity';

export const HttpMetric = {
  duration: 'conversation_http_request_duration_seconds',
  errors: 'conversation_http_request_errors',
} as const;

export interface HttpCallSpec {
  /** Which side: runtime-api | agent-server. */
  readonly protocol: string;
  /** The call's label, e.g. `agent.sendMessage`: one per endpoint, so a bounded label set. */
  readonly label: string;
  readonly method: string;
}

const tracer = () => trace.getTracer('durable-conversations');

/**
 * Runs `send` inside a client span; `send` gets the headers that carry the span's context.
 * The result's status (or the error's) labels the metrics.
 */
export async function observeHttpCall<T extends { status: number }>(call: HttpCallSpec, send: (traceHeaders: Record<string, string>) => Promise<T>): Promise<T> {
  const started = performance.now();
  const attributes = { 'http.request.method': call.method, 'rpc.system': call.protocol, 'conversation.http.endpoint': call.label };
  return tracer().startActiveSpan(`${call.method} ${call.label}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    const traceHeaders: Record<string, string> = {};
    propagation.inject(context.active(), traceHeaders);
    try {
      const result = await send(traceHeaders);
      span.setAttribute('http.response.status_code', result.status);
      record(call, String(result.status), started, false);
      return result;
    } catch (error) {
      const status = statusOf(error);
      span.setAttribute('http.response.status_code', status);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
      record(call, status, started, true);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The HTTP status, or what stood in for one: the error's class (NetworkError, RequestTimeoutError, an abort). */
function statusOf(error: unknown): string {
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number') return String(status);
  return error instanceof Error ? error.name : 'error';
}

function record(call: HttpCallSpec, status: string, started: number, failed: boolean): void {
  const meter = activityContext.getStore()?.metricMeter;
  if (!meter) return;
  const tags = { protocol: call.protocol, endpoint: call.label, status };
  meter
    .createHistogram(HttpMetric.duration, 'float', undefined, 'latency of Runtime API and agent-server calls made by activities, by endpoint and status')
    .record((performance.now() - started) / 1000, tags);
  if (failed) meter.createCounter(HttpMetric.errors, undefined, 'Runtime API and agent-server calls that failed, by endpoint and status').add(1, tags);
}
