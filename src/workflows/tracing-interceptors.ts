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
//
// Nor is a run traced whose start carried no trace context (patch `trace-runs-started-traced`):
// a client that does not trace (OTEL_EXPORTER_OTLP_ENDPOINT unset) sends none, and then the
// deployment exports nothing, so building spans only to drop them was waste. It was not small:
// the OpenTelemetry SDK is evaluated anew for each workflow (the SDK gives each its own module
// instances), and with its interceptors a conversation took about twice the workflow-thread
// memory and a third more workflow-task time (docs/performance.md). So the SDK is loaded on a
// run's first traced call, never in an untraced run. The decision uses only what history holds
// (the patch markers and the start's headers), so a replay decides the same way on any worker.
import { patched, workflowInfo } from '@temporalio/workflow';
import type { Headers } from '@temporalio/common';
import type * as OpenTelemetryWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import type { WorkflowInboundCallsInterceptor, WorkflowInterceptors, WorkflowInternalsInterceptor, WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';


export const TRACING_PATCH = 'trace-with-opentelemetry';
export const BATCH_UNTRACED_PATCH = 'batch-untraced';
export const TRACE_RUNS_STARTED_TRACED_PATCH = 'trace-runs-started-traced';

/** The header the OpenTelemetry client interceptor puts the caller's span context in (`TRACE_HEADER` of the package). */
export const TRACE_HEADER = '_tracer-data';

/** Workflows whose new runs are not traced (see above). */
const UNTRACED_WORKFLOW_TYPES = new Set(['batchWorkflow']);

/** The methods of the package's three interceptors (a unit test keeps these lists in step with it). */
export const TRACED_METHODS = {
  inbound: ['execute', 'handleSignal', 'handleUpdate', 'validateUpdate', 'handleQuery'],
  outbound: ['scheduleActivity', 'scheduleLocalActivity', 'startNexusOperation', 'startChildWorkflowExecution', 'continueAsNew', 'signalWorkflow', 'getLogAttributes', 'getMetricTags'],
  internals: ['dispose'],
} as const;

/** Methods that only add attributes to logs and metrics (no command, no await): they never make the decision, and follow it once made. */
const ATTRIBUTE_METHODS = new Set<string>(['getLogAttributes', 'getMetricTags']);

type Method = (input: unknown, next: (input: unknown) => unknown) => unknown;
type Kind = keyof typeof TRACED_METHODS;

/** This run's decision, once made (module state is per workflow run: the SDK gives each run its own module instances). */
let traced: boolean | undefined;

/** Whether this run is traced; false until its first call decided. tracing.ts leaves the OpenTelemetry API alone otherwise. */
export const runIsTraced = (): boolean => traced === true;

export const interceptors = (): WorkflowInterceptors => {
  let loaded: Record<Kind, Record<string, Method>> | undefined;

  /** Made at the run's first call (its start: `execute`, with the start's headers). */
  const decide = (startHeaders: Headers | undefined): boolean =>
    (traced ??=
      patched(TRACING_PATCH) &&
      !(UNTRACED_WORKFLOW_TYPES.has(workflowInfo().workflowType) && patched(BATCH_UNTRACED_PATCH)) &&
      !(startHeaders !== undefined && !(TRACE_HEADER in startHeaders) && patched(TRACE_RUNS_STARTED_TRACED_PATCH)));

  /** The package's interceptors, created on the first traced call; the SDK with them. */
  const openTelemetry = () => {
    if (!loaded) {
      // A require inside the function, not an import: webpack then evaluates the module only when this runs.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const otel = require('@temporalio/interceptors-opentelemetry/lib/workflow/index.js') as typeof OpenTelemetryWorkflow;
      const created = { inbound: new otel.OpenTelemetryInboundInterceptor(), outbound: new otel.OpenTelemetryOutboundInterceptor(), internals: new otel.OpenTelemetryInternalsInterceptor() };
      loaded = created as unknown as Record<Kind, Record<string, Method>>;
    }
    return loaded;
  };

  const gated = (kind: Kind) => {
    const gate: Record<string, Method> = {};
    for (const name of TRACED_METHODS[kind]) {
      gate[name] = (input, next) => {
        let on: boolean;
        if (kind === 'internals' || ATTRIBUTE_METHODS.has(name)) on = runIsTraced();
        else on = decide(name === 'execute' ? (input as { headers?: Headers }).headers : undefined);
        if (!on) return next(input);
        const target = openTelemetry()[kind];
        return (target[name] as Method).call(target, input, next);
      };
    }
    return gate;
  };

  return {
    inbound: [gated('inbound') as WorkflowInboundCallsInterceptor],
    outbound: [gated('outbound') as WorkflowOutboundCallsInterceptor],
    internals: [gated('internals') as WorkflowInternalsInterceptor],
  };
};
