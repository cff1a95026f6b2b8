// The product's metrics that come from workflow code. They go through the SDK's workflow
// metric meter, which hands them to the worker through a sink that is not called while a
// history replays: a conversation replayed on another worker (or after a cache eviction)
// never counts its provisioning or its messages twice. Names follow Prometheus
// conventions with the unit in the name; the exporter adds `_total` to counters.
import { metricMeter } from '@temporalio/workflow';

export const WorkflowMetric = {
  provisioningDuration: 'conversation_provisioning_duration_seconds',
  compensations: 'conversation_compensations',
  runtimeReplacements: 'conversation_runtime_replacements',
  messagesReceived: 'conversation_messages_received',
  messagesDelivered: 'conversation_messages_delivered',
  messagesDeduplicated: 'conversation_messages_deduplicated',
  deliveryLatency: 'conversation_message_delivery_latency_seconds',
  turnDuration: 'conversation_turn_duration_seconds',
  idlePauses: 'conversation_idle_pauses',
  archives: 'conversation_archives',
} as const;

/** How a provisioning ended: what happened to the runtime, or that it failed (and was compensated). */
export type ProvisioningOutcome = 'started' | 'resumed' | 'adopted' | 'failed';

const seconds = (ms: number) => Math.max(0, ms) / 1000;

function count(name: string, description: string, tags: Record<string, string> = {}): void {
  metricMeter.createCounter(name, undefined, description).add(1, tags);
}

function observe(name: string, description: string, valueMs: number, tags: Record<string, string> = {}): void {
  metricMeter.createHistogram(name, 'float', undefined, description).record(seconds(valueMs), tags);
}

export const workflowMetrics = {
  provisioned(outcome: ProvisioningOutcome, reason: string, durationMs: number): void {
    observe(WorkflowMetric.provisioningDuration, 'time from asking for a runtime to its agent conversation being ready, by outcome', durationMs, { outcome, reason });
  },
  compensated(): void {
    count(WorkflowMetric.compensations, 'provisionings that failed after a runtime may have been started, and stopped it');
  },
  runtimeReplaced(): void {
    count(WorkflowMetric.runtimeReplacements, 'runtimes found gone and replaced by a new one');
  },
  messageReceived(): void {
    count(WorkflowMetric.messagesReceived, 'user messages accepted into a conversation queue');
  },
  messageDeduplicated(): void {
    count(WorkflowMetric.messagesDeduplicated, 'user messages dropped as retries of a message already received (same message ID)');
  },
  messageDelivered(receivedAt: number): void {
    count(WorkflowMetric.messagesDelivered, 'user messages posted to the agent server');
    observe(WorkflowMetric.deliveryLatency, 'time from the workflow receiving a message to the agent server accepting it', Date.now() - receivedAt);
  },
  turnEnded(status: string, durationMs: number): void {
    observe(WorkflowMetric.turnDuration, "time from a message's delivery to the end of the agent's turn, by final status", durationMs, { status });
  },
  idlePaused(): void {
    count(WorkflowMetric.idlePauses, 'runtimes paused because their conversation was idle');
  },
  archived(): void {
    count(WorkflowMetric.archives, 'runtimes stopped because their paused conversation passed retention');
  },
};
