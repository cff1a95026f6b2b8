// One message is one connected trace: the client's update, the workflow's handling of
// it, the delivery activity (scheduled later by the main loop) and its HTTP call to the
// agent server, each the child of the one before. Spans are collected in memory.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Agent } from 'undici';
import { z } from 'zod';
import { Client } from '@temporalio/client';
import * as openTelemetryWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import { TRACE_HEADER as PACKAGE_TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation.js';
import { ConversationClient } from '../../src/client.js';
import { startTracing } from '../../src/observability/tracing.js';
import { TRACED_METHODS, TRACE_HEADER, TRACE_RUNS_STARTED_TRACED_PATCH } from '../../src/workflows/tracing-interceptors.js';
import type { Tracing } from '../../src/observability/tracing.js';
import { HttpEndpoint, path } from '../../src/runtime-api/http.js';
import { startConversationStack, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { uniqueId } from '../support/temporal.js';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
before(() => {
  const started = startTracing({ spanProcessor: new SimpleSpanProcessor(exporter) });
  assert.ok(started);
  tracing = started;
});
after(async () => {
  await tracing.shutdown();
});

const parentOf = (span: ReadableSpan) => span.parentSpanId;

/** The spans of `traceId` once `names` are all among them (workflow spans arrive when their activation completes). */
async function spansOf(traceId: string, names: readonly string[], timeoutMs = 20_000): Promise<ReadableSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
    if (names.every((name) => spans.some((span) => span.name === name)) || Date.now() > deadline) return spans;
    await sleep(200);
  }
}

describe('tracing one message (real Temporal, real sandbox)', () => {
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack({ tracing });
  });
  after(async () => {
    await stack.close();
  });

  test('client → workflow → deliverMessage → POST to the agent server, one connected trace', async () => {
    const { conversations } = stack;
    const id = uniqueId('traced');
    await conversations.start({ conversationId: id, userId: 'alice' });
    await conversations.waitUntilReady(id);
    exporter.reset();

    await conversations.send(id, { text: 'echo traced' });
    await waitForInfo(conversations, id, (info) => info.delivered === 1 && info.lastTurn !== undefined);

    const clientSpan = exporter.getFinishedSpans().find((span) => span.name === 'StartWorkflowUpdate:sendMessage');
    assert.ok(clientSpan, 'the client traced its update');
    const names = ['StartWorkflowUpdate:sendMessage', 'HandleUpdate:sendMessage', 'StartActivity:deliverMessage', 'RunActivity:deliverMessage', 'POST agent.sendMessage'];
    const spans = await spansOf(clientSpan.spanContext().traceId, names);
    const byName = (name: string) => {
      const span = spans.find((s) => s.name === name);
      assert.ok(span, `${name} is in the message's trace; found ${spans.map((s) => s.name).join(', ')}`);
      return span;
    };
    const [client, handler, scheduled, ran, post] = names.map(byName) as [ReadableSpan, ReadableSpan, ReadableSpan, ReadableSpan, ReadableSpan];
    assert.equal(parentOf(handler), client.spanContext().spanId, 'the workflow handled the update inside the client span');
    assert.equal(parentOf(scheduled), handler.spanContext().spanId, 'delivery was scheduled in the trace the message arrived in');
    assert.equal(parentOf(ran), scheduled.spanContext().spanId, 'the activity continues the workflow span');
    assert.equal(parentOf(post), ran.spanContext().spanId, 'the HTTP call is a child of the activity');
    assert.equal(post.attributes['http.response.status_code'], 200);
    // The turn is followed in the same trace.
    assert.ok(spans.some((span) => span.name === 'RunActivity:awaitTurn'), 'the turn is part of the trace');
    await conversations.close(id, 'done');
    assert.ok(!(await patchesOf(stack, id)).includes(TRACE_RUNS_STARTED_TRACED_PATCH), 'a run started traced never asks whether to trace');
  });

  test('a conversation started by a client that does not trace runs untraced, even for traced messages', async () => {
    const id = uniqueId('untraced');
    const { temporal } = stack;
    const untracedClient = new Client({ connection: temporal.client.connection, namespace: temporal.client.options.namespace, dataConverter: temporal.client.options.dataConverter });
    const untraced = new ConversationClient({ client: untracedClient, taskQueue: temporal.taskQueue });
    await untraced.start({ conversationId: id, userId: 'alice' });
    await untraced.waitUntilReady(id);
    exporter.reset();
    // The traced client's message still arrives and is answered; the workflow only makes no spans of its own.
    await stack.conversations.send(id, { text: 'echo untraced' });
    await waitForInfo(stack.conversations, id, (info) => info.delivered === 1 && info.lastTurn !== undefined);
    const clientSpan = exporter.getFinishedSpans().find((span) => span.name === 'StartWorkflowUpdate:sendMessage');
    assert.ok(clientSpan, 'the client traced its update');
    await sleep(1_000); // workflow spans arrive when their activation completes: give any a chance to
    const workflowSpans = exporter.getFinishedSpans().filter((span) => /^(HandleUpdate|StartActivity|RunWorkflow):/.test(span.name));
    assert.deepEqual(workflowSpans.map((span) => span.name), [], 'the untraced run made no workflow spans');
    assert.ok((await patchesOf(stack, id)).includes(TRACE_RUNS_STARTED_TRACED_PATCH), 'the decision is recorded in history');
    await untraced.close(id, 'done');
  });
});

/** The patch IDs a run's history records. */
async function patchesOf(stack: ConversationStack, workflowId: string): Promise<string[]> {
  const history = await stack.temporal.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const details = event.markerRecordedEventAttributes?.markerName === 'core_patch' ? event.markerRecordedEventAttributes.details : undefined;
    const id = details?.['patch-data']?.payloads?.[0]?.data;
    return id ? [JSON.parse(Buffer.from(id).toString('utf8')).id as string] : [];
  });
}

describe('the workflow interceptors, loaded only for traced runs', () => {
  test('gate every method of the package, under its header name', () => {
    const methods = (type: { prototype: object }) => Object.getOwnPropertyNames(type.prototype).filter((name) => name !== 'constructor');
    assert.deepEqual([...TRACED_METHODS.inbound], methods(openTelemetryWorkflow.OpenTelemetryInboundInterceptor));
    assert.deepEqual([...TRACED_METHODS.outbound], methods(openTelemetryWorkflow.OpenTelemetryOutboundInterceptor));
    assert.deepEqual([...TRACED_METHODS.internals], methods(openTelemetryWorkflow.OpenTelemetryInternalsInterceptor));
    assert.equal(TRACE_HEADER, PACKAGE_TRACE_HEADER);
  });
});

describe('HTTP calls carry the trace', () => {
  test('a call sends the W3C traceparent of its own span', async () => {
    const seen: Array<string | undefined> = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.traceparent as string | undefined);
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const dispatcher = new Agent();
    try {
      const endpoint = new HttpEndpoint({
        protocol: 'agent-server',
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        dispatcher,
        timeoutMs: 5_000,
        headers: {},
      });
      const traceId = await trace.getTracer('test').startActiveSpan('caller', async (span) => {
        await endpoint.json({ label: 'agent.health', method: 'GET', path: path`/health`, schema: z.unknown() });
        span.end();
        return span.spanContext().traceId;
      });
      const post = exporter.getFinishedSpans().find((span) => span.name === 'GET agent.health' && span.spanContext().traceId === traceId);
      assert.ok(post, 'the call made its own span');
      assert.equal(seen[0], `00-${traceId}-${post.spanContext().spanId}-01`);
    } finally {
      await dispatcher.close();
      server.close();
    }
  });
});
