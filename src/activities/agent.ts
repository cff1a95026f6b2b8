// Activities on the agent server (data plane) inside a runtime: create the agent
// conversation, deliver a user message, follow the turn it starts, delete it on close.
// Each call looks up the runtime's session key in the worker-side cache.
import { createHash } from 'node:crypto';
import { cancellationSignal, heartbeat, sleep } from '@temporalio/activity';
import { AgentServerClient, TURN_ENDED_STATUSES, UnauthorizedError } from '../runtime-api/index.js';
import type { ActivityDeps } from './deps.js';
import type { RuntimeRef } from './runtime.js';

/** How long a turn may take to show any sign of starting before an ended status is believed. */
const TURN_START_GRACE_MS = 10_000;

export interface AgentRef extends RuntimeRef {
  readonly agentConversationId: string;
}

export interface TurnOutcome {
  readonly executionStatus: string;
  readonly durationMs: number;
}

/** The agent server wants a UUID; derive one from the conversation ID (RFC 4122 v5) so re-creation is idempotent. */
export function agentConversationIdFor(conversationId: string): string {
  const namespace = Buffer.from('6f0c1e52a2f44c1a9d3b5e7f8a9b0c1d', 'hex');
  const hash = createHash('sha1').update(namespace).update(conversationId).digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function agentActivities(deps: ActivityDeps) {
  /** Runs `call` with the runtime's key; a 401 means the cached key is stale, so look it up once more. */
  async function withAgent<T>(ref: RuntimeRef, call: (client: AgentServerClient) => Promise<T>): Promise<T> {
    const signal = cancellationSignal();
    for (let attempt = 0; ; attempt++) {
      const key = await deps.sessionKeys.get(ref.sessionId, ref.runtimeId, signal);
      const client = new AgentServerClient({ baseUrl: ref.url, sessionApiKey: key, dispatcher: deps.agentDispatcher });
      try {
        return await call(client);
      } catch (error) {
        if (!(error instanceof UnauthorizedError) || attempt > 0) throw error;
        deps.sessionKeys.forget(ref.sessionId);
      }
    }
  }

  async function agentReacted(input: AgentRef): Promise<boolean> {
    const page = await withAgent(input, (client) =>
      client.searchEvents(input.agentConversationId, { sort_order: 'TIMESTAMP_DESC', limit: 1 }, { signal: cancellationSignal() }),
    );
    const newest = page.items[0];
    return newest !== undefined && !(newest.kind === 'MessageEvent' && newest.source === 'user');
  }

  return {
    async createAgentConversation(input: RuntimeRef): Promise<{ agentConversationId: string; created: boolean }> {
      const agentConversationId = agentConversationIdFor(input.sessionId);
      const { created } = await withAgent(input, (client) =>
        client.createConversation({ agent: deps.agent, conversation_id: agentConversationId }, { signal: cancellationSignal() }),
      );
      return { agentConversationId, created };
    },

    /** Posts the message and starts the agent; the message ID is the Idempotency-Key, so a retry is a no-op. */
    async deliverMessage(input: AgentRef & { messageId: string; text: string }): Promise<void> {
      await withAgent(input, (client) =>
        client.sendMessage(
          input.agentConversationId,
          { role: 'user', content: [{ type: 'text', text: input.text }], run: true },
          { idempotencyKey: input.messageId, signal: cancellationSignal() },
        ),
      );
    },

    /**
     * Follows execution_status until the turn ends. A status that is already "ended"
     * right after delivery may predate the run, so it counts once the run was seen, or
     * once the agent has reacted (the newest event is no longer the user's message), or
     * after a grace period for an agent that never starts.
     */
    async awaitTurn(input: AgentRef): Promise<TurnOutcome> {
      const startedAt = Date.now();
      let seenRunning = false;
      let delayMs = 10;
      for (;;) {
        const info = await withAgent(input, (client) => client.getConversation(input.agentConversationId, { signal: cancellationSignal() }));
        const status = info.execution_status;
        if (status === 'running') seenRunning = true;
        const ended = (TURN_ENDED_STATUSES as readonly string[]).includes(status);
        if (ended && (seenRunning || Date.now() - startedAt > TURN_START_GRACE_MS || (await agentReacted(input)))) {
          return { executionStatus: status, durationMs: Date.now() - startedAt };
        }
        heartbeat({ status });
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 1.5, 500);
      }
    },

    /** Frees what the conversation holds in the runtime (tmux sessions, file handles); false when it was already gone. */
    async deleteAgentConversation(input: AgentRef): Promise<boolean> {
      return withAgent(input, (client) => client.deleteConversation(input.agentConversationId, { signal: cancellationSignal() }));
    },
  };
}
