// Records workflow histories from real scenarios (real Temporal, real sandboxes) into
// test/fixtures/histories/, for the replay test that guards determinism. Run it again
// after an intended workflow change (and keep old fixtures for versions still running):
//   npx tsx scripts/record-histories.ts [scenario …]
// FIXTURE_TAG=<tag> names the files <scenario>-<tag>-<n>.json, beside the ones recorded
// before a change (which keep guarding the runs still going that began before it).
// The stacks are the tests' (test/support), so the histories are encrypted with the test
// key (test/fixtures/encryption.keys) and the replay test decrypts them with it.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { freePort, startDevServer } from '../src/temporal/dev-server.js';
import { projectRoot, toolsDir } from '../src/temporal/server.js';
import { TEMPORAL_CLI, resolveTool } from '../src/temporal/tool-resolver.js';
import type { AdmissionConfig } from '../src/activities/index.js';
import { admissionWorkflowId } from '../src/workflows/admission/messages.js';
import { BatchClient } from '../src/batch/client.js';
import { BatchStore } from '../src/batch/store.js';
import { batchWorkflowId, itemConversationId } from '../src/workflows/batch/messages.js';
import { sharedRuntimeWorkflowId } from '../src/workflows/shared-runtime/messages.js';
import { projectSearchAttributes } from '../src/workflows/search-attributes.js';
import { openhandsVariant, shellVariant } from '../test/support/agents.js';
import type { AgentVariant } from '../test/support/agents.js';
import { startConversationStack, waitForInfo } from '../test/support/conversations.js';
import type { ConversationStack } from '../test/support/conversations.js';

const outDir = path.join(projectRoot, 'test', 'fixtures', 'histories');
const tag = process.env.FIXTURE_TAG ? `-${process.env.FIXTURE_TAG}` : '';

/** Runs the scenario on conversation `id`; may return more workflow IDs whose histories to record too. */
type Scenario = (stack: ConversationStack, id: string, variant: AgentVariant) => Promise<void | string[]>;

const scenarios: Record<string, { server?: object; policy?: object; admission?: AdmissionConfig; variant?: () => Promise<AgentVariant>; run: Scenario }> = {
  // The real OpenHands agent server (scripted LLM): a turn with a tool call, a message that
  // waits for its turn, pause, a message while paused, close with DELETE.
  openhands: {
    variant: () => openhandsVariant(),
    run: async ({ conversations }, id, variant) => {
      await conversations.start({ conversationId: id, userId: 'replay', message: { text: variant.ask('echo one'), messageId: 'm1' } });
      await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0, 180_000);
      await conversations.send(id, { text: variant.ask('echo two'), messageId: 'm2', waitFor: 'turn' });
      await conversations.pause(id);
      await waitForInfo(conversations, id, (i) => i.status === 'STOPPED');
      await conversations.send(id, { text: variant.ask('echo three'), messageId: 'm3', waitFor: 'turn' });
      await conversations.close(id, 'recorded');
      await conversations.result(id);
    },
  },
  // The sandbox dies mid-turn: the message goes again to the restarted runtime.
  redelivery: {
    run: async ({ conversations, server }, id) => {
      await conversations.start({ conversationId: id, userId: 'replay', message: { text: 'sleep 20; echo slow', messageId: 'm1' } });
      const info = await waitForInfo(conversations, id, (i) => i.turnMessageId === 'm1' && i.executionStatus === 'running', 60_000);
      process.kill(server.sandboxPid(info.runtimeId as string) as number, 'SIGKILL');
      await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0, 120_000);
      await conversations.close(id);
      await conversations.result(id);
    },
  },
  // The runtime is stopped behind the workflow's back while idle: the pause finds it gone.
  'gone-idle': {
    policy: { idleDelayMs: 1_000 },
    run: async ({ conversations, runtimeApi }, id) => {
      await conversations.start({ conversationId: id, userId: 'replay', message: { text: 'echo one', messageId: 'm1' } });
      const info = await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0);
      await runtimeApi.stop(info.runtimeId as string);
      await waitForInfo(conversations, id, (i) => i.status === 'STOPPED');
      await conversations.send(id, { text: 'echo two', messageId: 'm2', waitFor: 'turn' });
      await conversations.close(id);
      await conversations.result(id);
    },
  },
  // Start with a message, idle pause, resume on a new message, close.
  lifecycle: {
    policy: { idleDelayMs: 1_000 },
    run: async ({ conversations }, id) => {
      await conversations.start({ conversationId: id, userId: 'replay', message: { text: 'echo one', messageId: 'm1' } });
      await waitForInfo(conversations, id, (i) => i.status === 'STOPPED');
      await conversations.send(id, { text: 'echo two', messageId: 'm2' }, 'signal');
      await conversations.send(id, { text: 'echo two', messageId: 'm2' });
      await waitForInfo(conversations, id, (i) => i.delivered === 2 && i.lastTurn?.messageId === 'm2');
      await conversations.pause(id);
      await waitForInfo(conversations, id, (i) => i.status === 'STOPPED');
      await conversations.resume(id);
      await waitForInfo(conversations, id, (i) => i.status === 'RUNNING');
      await conversations.close(id, 'recorded');
      await conversations.result(id);
    },
  },
  // A pause requested during a turn interrupts it; a message after the resume runs to its end; close.
  interruption: {
    run: async ({ conversations }, id) => {
      await conversations.start({ conversationId: id, userId: 'replay', message: { text: 'sleep 30; echo slow', messageId: 'm1' } });
      await waitForInfo(conversations, id, (i) => i.turnMessageId === 'm1' && i.executionStatus === 'running', 60_000);
      await conversations.pause(id);
      await waitForInfo(conversations, id, (i) => i.status === 'STOPPED' && i.lastTurn?.messageId === 'm1', 60_000);
      await conversations.send(id, { text: 'echo two', messageId: 'm2', waitFor: 'turn' });
      await conversations.close(id, 'recorded');
      await conversations.result(id);
    },
  },
  // A sandbox that keeps crashing: provisioning fails and compensation stops the runtime.
  compensation: {
    server: { faults: { crashOnStart: true }, maxRestarts: 1 },
    run: async ({ conversations }, id) => {
      await conversations.start({ conversationId: id, userId: 'replay', message: { text: 'echo lost', messageId: 'm1' } });
      await conversations.result(id).catch(() => undefined);
    },
  },
  // The runtime is stopped behind the workflow's back; the next message gets a new one.
  recovery: {
    run: async ({ conversations, runtimeApi }, id) => {
      await conversations.start({ conversationId: id, userId: 'replay', message: { text: 'echo one', messageId: 'm1' } });
      const info = await waitForInfo(conversations, id, (i) => i.delivered === 1 && i.lastTurn !== undefined);
      await runtimeApi.stop(info.runtimeId as string);
      await conversations.send(id, { text: 'echo two', messageId: 'm2' });
      await waitForInfo(conversations, id, (i) => i.delivered === 2 && i.lastTurn?.messageId === 'm2');
      await conversations.close(id);
      await conversations.result(id);
    },
  },
  // Per-user admission, limit 1, evict: B's start evicts A (paused, TOO_MANY_CONVERSATIONS);
  // A's next message waits for a slot and evicts B; both close. Records A, B and the user's admission workflow.
  admission: {
    admission: { defaults: { limit: 1, policy: 'evict' } },
    run: async ({ conversations, temporal }, id) => {
      const other = `${id}-b`;
      await conversations.start({ conversationId: id, userId: 'replay', message: { text: 'echo a', messageId: 'm1' } });
      await waitForInfo(conversations, id, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0);
      await conversations.start({ conversationId: other, userId: 'replay', message: { text: 'echo b', messageId: 'm1' } });
      await waitForInfo(conversations, id, (i) => i.stopReason !== undefined);
      await waitForInfo(conversations, other, (i) => i.lastTurn?.messageId === 'm1' && i.queued === 0);
      await conversations.send(id, { text: 'echo a again', messageId: 'm2', waitFor: 'turn' });
      for (const conversation of [id, other]) {
        await conversations.close(conversation, 'recorded');
        await conversations.result(conversation);
      }
      return [other, admissionWorkflowId(temporal.taskQueue, 'replay')];
    },
  },
  // Cancellation tears the runtime down.
  // A batch of 4 on a shared runtime, 2 at a time, continuing as new every 2 items: the
  // batch's runs, one item's conversation and the shared runtime's owner.
  batch: {
    run: async ({ temporal, dataDir }, id) => {
      const batches = new BatchClient({ client: temporal.client, taskQueue: temporal.taskQueue, store: new BatchStore(path.join(dataDir, 'batches')) });
      const input = ['echo a', 'echo b', 'echo c', 'echo d'].map((prompt) => JSON.stringify({ prompt })).join('\n');
      const { batchId } = await batches.run({ input, batchId: id, concurrency: 2, shared: `${id}-pool`, continueAsNewEvery: 2, itemMode: 'conversation' });
      await batches.result(batchId);
      return [batchWorkflowId(batchId), itemConversationId(batchId, 0, 1), sharedRuntimeWorkflowId(temporal.taskQueue, `${id}-pool`)];
    },
  },
  // The same batch as turns (one activity per item) on a pool of two shared runtimes: the
  // batch's runs and both owners.
  'batch-turns': {
    run: async ({ temporal, dataDir }, id) => {
      const batches = new BatchClient({ client: temporal.client, taskQueue: temporal.taskQueue, store: new BatchStore(path.join(dataDir, 'batches')) });
      const input = ['echo a', 'echo b', 'echo c', 'echo d'].map((prompt) => JSON.stringify({ prompt })).join('\n');
      const { batchId } = await batches.run({ input, batchId: id, concurrency: 2, shared: `${id}-pool`, runtimes: 2, continueAsNewEvery: 2, itemMode: 'turn' });
      await batches.result(batchId);
      return [batchWorkflowId(batchId), ...[0, 1].map((i) => sharedRuntimeWorkflowId(temporal.taskQueue, `${id}-pool-${i}`))];
    },
  },
  cancellation: {
    run: async ({ conversations, temporal }, id) => {
      await conversations.start({ conversationId: id, userId: 'replay' });
      await conversations.waitUntilReady(id);
      await temporal.client.workflow.getHandle(id).cancel();
      await conversations.result(id).catch(() => undefined);
    },
  },
};

async function main(): Promise<void> {
  const cli = await resolveTool(TEMPORAL_CLI, { toolsDir: toolsDir(projectRoot), allowSdkDownload: false });
  if (cli.source === 'sdk-download') throw new Error('unreachable');
  // A low threshold makes the longer scenarios continue as new, so those runs are recorded too.
  const server = await startDevServer({
    executable: cli.path,
    port: await freePort(),
    searchAttributes: projectSearchAttributes,
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 60 },
  });
  try {
    const only = process.argv.slice(2);
    for (const [name, scenario] of Object.entries(scenarios)) {
      if (only.length > 0 && !only.includes(name)) continue;
      const variant = await (scenario.variant ?? (async () => shellVariant()))();
      const stack = await startConversationStack({
        address: server.address,
        server: { ...variant.server, ...scenario.server },
        policy: scenario.policy,
        agent: variant.agent,
        admission: scenario.admission,
      });
      try {
        const id = `replay-${name}`;
        const more = (await scenario.run(stack, id, variant)) ?? [];
        // Every run of the chain (continue-as-new makes several) is a fixture of its own.
        await new Promise((resolve) => setTimeout(resolve, 1_000)); // visibility is eventually consistent
        let n = 0;
        // A scenario whose first workflow is not named after `id` (a batch) lists its own.
        const ids = more.length > 0 && name.startsWith('batch') ? more : [id, ...more];
        for (const workflowId of ids) {
          const runs = stack.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }).intoHistories();
          for await (const { history } of runs) {
            n++;
            const recorded = history as Parameters<typeof historyToJSON>[0];
            await writeFile(path.join(outDir, `${name}${tag}-${n}.json`), `${historyToJSON(recorded)}\n`);
            console.log(`recorded ${name}${tag}-${n} (${workflowId}): ${recorded.events?.length ?? 0} events`);
          }
        }
      } finally {
        await stack.close();
        await variant.close();
      }
    }
  } finally {
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
