// The worker's /metrics after a whole lifecycle and after a compensated provisioning:
// the product's counters and histograms are there and moved by exactly what happened.
// This file's process installs the SDK runtime with a Prometheus endpoint before any
// worker starts (the runtime is process-wide); each stack has its own task queue, and
// every sample is filtered by it.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Runtime } from '@temporalio/worker';
import { ProvisioningFailedError } from '../../src/client-errors.js';
import { CONVERSATIONS_GAUGE, startStatusGauge } from '../../src/observability/metrics.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { installTemporalRuntime } from '../../src/temporal/runtime.js';
import { sendMessageSignal } from '../../src/workflows/messages.js';
import { startConversationStack, waitForInfo } from '../support/conversations.js';
import type { ConversationStack } from '../support/conversations.js';
import { moved, scrape, total } from '../support/metrics.js';
import type { Sample } from '../support/metrics.js';
import { uniqueId } from '../support/temporal.js';

let metricsUrl: string;
before(async () => {
  const address = installTemporalRuntime('error', { metricsAddress: `127.0.0.1:${await freePort()}` });
  assert.ok(address, 'this file installs the runtime first');
  metricsUrl = `http://${address}/metrics`;
});

/** Scrapes until `expectation` holds (workflow metrics reach the exporter after their activation completes). */
async function metricsWhen(expectation: (samples: Sample[]) => boolean, timeoutMs = 20_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape(metricsUrl);
    if (expectation(samples) || Date.now() > deadline) return samples;
    await sleep(200);
  }
}

describe('metrics over a lifecycle: start, deliver, idle pause, resume, close', () => {
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack({ policy: { idleDelayMs: 1_500, retentionMs: 60_000 } });
  });
  after(async () => {
    await stack.close();
  });

  test('counts each step once, times provisioning, delivery, turns and HTTP calls, and gauges the status', async () => {
    const { conversations, temporal } = stack;
    // The SDK tags metrics from workflows and activities with camelCase keys (taskQueue, workflowType, activityType).
    const tq = { taskQueue: temporal.taskQueue };
    const gauge = startStatusGauge({ client: temporal.client, meter: Runtime.instance().metricMeter, taskQueue: temporal.taskQueue, intervalMs: 60_000 });
    const before = await scrape(metricsUrl);
    const id = uniqueId('metrics-life');
    const { ack } = await conversations.start({ conversationId: id, userId: 'alice', message: { text: 'echo one' } });
    await conversations.waitUntilReady(id);
    await waitForInfo(conversations, id, (info) => info.delivered === 1 && info.lastTurn !== undefined);
    // The same message again, as a signal (an update with the same ID is deduplicated by the server itself).
    await temporal.client.workflow.getHandle(id).signal(sendMessageSignal, { messageId: ack?.messageId ?? '', text: 'echo one' });
    await waitForInfo(conversations, id, (info) => info.duplicates === 1);

    // Visibility is eventually consistent: refresh until the count shows the running conversation.
    let running = 0;
    for (const deadline = Date.now() + 20_000; running !== 1 && Date.now() < deadline; await sleep(300)) {
      await gauge.refresh();
      running = total(await scrape(metricsUrl), CONVERSATIONS_GAUGE, { status: 'RUNNING' });
    }
    assert.equal(running, 1, 'the gauge counts the running conversation');

    await waitForInfo(conversations, id, (info) => info.status === 'STOPPED');
    await conversations.send(id, { text: 'echo two' });
    await waitForInfo(conversations, id, (info) => info.delivered === 2 && info.lastTurn?.messageId !== ack?.messageId);
    await conversations.close(id, 'done');
    assert.equal((await conversations.result(id)).info.status, 'ARCHIVED');

    const count = (name: string, labels: Record<string, string> = {}) => moved(before, after, name, { ...tq, ...labels });
    const after = await metricsWhen((s) => moved(before, s, 'conversation_turn_duration_seconds_count', tq) >= 2);
    assert.equal(count('conversation_messages_received_total'), 2);
    assert.equal(count('conversation_messages_deduplicated_total'), 1);
    assert.equal(count('conversation_messages_delivered_total'), 2);
    assert.equal(count('conversation_message_delivery_latency_seconds_count'), 2);
    assert.equal(count('conversation_turn_duration_seconds_count'), 2);
    assert.equal(count('conversation_provisioning_duration_seconds_count', { outcome: 'started', reason: 'start' }), 1);
    assert.equal(count('conversation_provisioning_duration_seconds_count', { outcome: 'resumed', reason: 'resume' }), 1);
    assert.equal(count('conversation_provisioning_duration_seconds_count', { outcome: 'failed' }), 0);
    assert.equal(count('conversation_idle_pauses_total'), 1);
    assert.equal(count('conversation_compensations_total'), 0);
    assert.equal(count('conversation_runtime_replacements_total'), 0);
    assert.ok(count('conversation_provisioning_duration_seconds_sum') > 0, 'provisioning took time');
    // Each message was posted once to the agent server, each answered 2xx; the Runtime API started, paused, resumed and stopped it.
    const http = (protocol: string, endpoint: string) => count('conversation_http_request_duration_seconds_count', { protocol, endpoint });
    assert.equal(http('agent-server', 'agent.sendMessage'), 2);
    assert.equal(http('runtime-api', 'runtime-api.start'), 1);
    assert.equal(count('conversation_http_request_errors_total', { endpoint: 'agent.sendMessage' }), 0);
    // The SDK's own worker metrics are served beside ours.
    assert.ok(total(after, 'temporal_workflow_completed_total', { task_queue: temporal.taskQueue }) >= 1, 'the SDK counts the completed workflow');
    // The SDK metrics the dashboard and docs/observability.md name.
    for (const name of [
      'temporal_workflow_task_schedule_to_start_latency_seconds_count',
      'temporal_activity_schedule_to_start_latency_seconds_count',
      'temporal_worker_task_slots_available',
      'temporal_sticky_cache_size',
    ]) {
      assert.ok(after.some((sample) => sample.name === name), `${name} is served`);
    }

    for (const deadline = Date.now() + 20_000; running !== 0 && Date.now() < deadline; await sleep(300)) {
      await gauge.refresh();
      running = total(await scrape(metricsUrl), CONVERSATIONS_GAUGE, { status: 'RUNNING' });
    }
    gauge.stop();
    assert.equal(running, 0, 'the closed conversation left the gauge');
  });
});

describe('metrics of a compensated provisioning', () => {
  let stack: ConversationStack;
  before(async () => {
    stack = await startConversationStack({ server: { faults: { crashOnStart: true }, maxRestarts: 1 } });
  });
  after(async () => {
    await stack.close();
  });

  test('one failed provisioning, one compensation, no message delivered', async () => {
    const { conversations, temporal } = stack;
    // The SDK tags metrics from workflows and activities with camelCase keys (taskQueue, workflowType, activityType).
    const tq = { taskQueue: temporal.taskQueue };
    const before = await scrape(metricsUrl);
    const id = uniqueId('metrics-crash');
    await conversations.start({ conversationId: id, userId: 'bob', message: { text: 'echo never' } });
    await assert.rejects(conversations.result(id), ProvisioningFailedError);

    const after = await metricsWhen((s) => moved(before, s, 'conversation_compensations_total', tq) >= 1);
    const count = (name: string, labels: Record<string, string> = {}) => moved(before, after, name, { ...tq, ...labels });
    assert.equal(count('conversation_compensations_total'), 1);
    assert.equal(count('conversation_provisioning_duration_seconds_count', { outcome: 'failed', reason: 'start' }), 1);
    assert.equal(count('conversation_provisioning_duration_seconds_count', { outcome: 'started' }), 0);
    assert.equal(count('conversation_messages_received_total'), 1);
    assert.equal(count('conversation_messages_delivered_total'), 0);
    // The compensation's stop went through the Runtime API.
    assert.ok(count('conversation_http_request_duration_seconds_count', { protocol: 'runtime-api', endpoint: 'runtime-api.stop' }) >= 1);
  });
});
