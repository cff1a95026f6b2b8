// The OpenTelemetry workflow interceptors, behind a patch. They await around every
// activity they schedule, so an activity's result reaches workflow code a few microtasks
// later than without them; where an update completes in the same activation, the order of
// the commands changes, and a history recorded before tracing no longer replays (seen:
// admission-6). So a run uses them only if it began with them: the first interceptor call
// of a run (its start) asks `patched`, which records a marker in new runs and answers
// false while replaying a run from before. Bundled into every workflow bundle (see
// WORKFLOW_INTERCEPTOR_MODULES), traced or not: only the worker decides whether spans go
// anywhere, so histories never depend on that setting.
//
// A batch is not traced item by item (patch `batch-untraced`): a batch of 100,000 would make a
// million spans, and the interceptors' awaits and context wrappers were most of what an item
// cost the batch workflow's tasks (each promise they make also costs the SDK a stack capture).
// A long task makes a full replay of a large run slower still. The second patch is asked at the
// same first call, and only once the first says traced, so batch runs recorded traced replay traced.
import { patched, workflowInfo } from '@temporalio/workflow';
import type { WorkflowInboundCallsInterceptor, WorkflowInterceptors, WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';

export const TRACING_PATCH = 'trace-with-opentelemetry';
export const BATCH_UNTRACED_PATCH = 'batch-untraced';

/** Workflows whose new runs are not traced (see above). */
const UNTRACED_WORKFLOW_TYPES = new Set(['batchWorkflow']);

/** Methods that only add attributes to logs and metrics: no command, no await; always traced. */
const ATTRIBUTE_METHODS = new Set(['getLogAttributes', 'getMetricTags']);

type Method = (input: unknown, next: (input: unknown) => unknown) => unknown;

/** Each method of `traced` runs only in a run that `isTraced`; otherwise the call goes straight on. */
function gated<T extends object>(traced: T, isTraced: () => boolean): T {
  const gate: Record<string, Method> = {};
  let proto: object | null = traced;
  const names = new Set<string>();
  while (proto && proto !== Object.prototype) {
    for (const name of Object.getOwnPropertyNames(proto)) if (name !== 'constructor' && typeof (traced as Record<string, unknown>)[name] === 'function') names.add(name);
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  for (const name of names) {
    const method = (traced as Record<string, Method>)[name] as Method;
    gate[name] = ATTRIBUTE_METHODS.has(name) ? method.bind(traced) : (input, next) => (isTraced() ? method.call(traced, input, next) : next(input));
  }
  return gate as T;
}

export const interceptors = (): WorkflowInterceptors => {
  let traced: boolean | undefined;
  const isTraced = () => (traced ??= patched(TRACING_PATCH) && !(UNTRACED_WORKFLOW_TYPES.has(workflowInfo().workflowType) && patched(BATCH_UNTRACED_PATCH)));
  return {
    inbound: [gated<WorkflowInboundCallsInterceptor>(new OpenTelemetryInboundInterceptor(), isTraced)],
    outbound: [gated<WorkflowOutboundCallsInterceptor>(new OpenTelemetryOutboundInterceptor(), isTraced)],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};
