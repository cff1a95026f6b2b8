// Activities on the agent server (data plane) inside a runtime: create the agent
// conversation, deliver a user message exactly once, follow the turn it starts,
// interrupt it, delete the conversation on close. Each call looks up the runtime's
// session key in the worker-side cache.
//
// The real agent server has no idempotency on posted messages, so delivery never relies
// on it: before posting, the activity counts the user messages the agent already holds
// and compares that with what the workflow knows it delivered. A retry after a lost
// answer (or after a worker died mid-call) finds the message there and only makes sure
// it runs.
import { cancellationSignal, log, sleep } from '@temporalio/activity';
import { AgentServerClient, UnauthorizedError, isMessageFrom, messageText, openEventStream } from '../runtime-api/index.js';
import type { AgentEvent, RunOutcome } from '../runtime-api/index.js';
import type { ActivityDeps } from './deps.js';
import { lastProgress, progress } from './heartbeats.js';
import type { RuntimeRef } from './runtime.js';
import { followTurn } from './turns.js';
import { keepTranscriptWith } from './transcript-keeper.js';
import { agentConversationIdFor } from './agent-id.js';

export { agentConversationIdFor };
import type { TurnOutcome } from './turns.js';

export type { TurnOutcome } from './turns.js';

const USER_MESSAGES = { kind: 'MessageEvent', source: 'user' } as const;
/** Backoff between /run attempts while the agent server has no run capacity (429). */
const CAPACITY_RETRY_MS = { first: 500, max: 10_000 } as const;

export interface AgentRef extends RuntimeRef {
  readonly agentConversationId: string;
}

export interface DeliveryInput extends AgentRef {
  readonly messageId: string;
  readonly text: string;
  /** User messages the workflow knows this agent conversation held before this one. */
  readonly userMessagesBefore: number;
  /**
   * The message's turn was cut short by a lost runtime: if the agent kept the message (the
   * real server reloads conversations after a restart, in `error` or `paused`), run it on.
   */
  readonly continueTurn?: boolean;
}

export interface Delivery {
  /** User messages the agent conversation holds now, this one included. */
  readonly userMessages: number;
  /** An earlier attempt had already posted it: nothing was posted again. */
  readonly alreadyPresent: boolean;
  /** This message's event timestamp, verbatim as the server wrote it: the turn is read from here on. */
  readonly since: string | undefined;
}


/** Runs `call` against a runtime's agent server with its session key; a 401 means the cached key is stale, so it looks the key up once more. */
export function agentCaller(deps: ActivityDeps) {
  return async function withAgent<T>(ref: RuntimeRef, call: (client: AgentServerClient, sessionApiKey: string | undefined) => Promise<T>): Promise<T> {
    const signal = cancellationSignal();
    for (let attempt = 0; ; attempt++) {
      const key = await deps.sessionKeys.get(ref.sessionId, ref.runtimeId, signal);
      const client = new AgentServerClient({ baseUrl: ref.url, sessionApiKey: key, dispatcher: deps.agentDispatcher });
      try {
        return await call(client, key);
      } catch (error) {
        if (!(error instanceof UnauthorizedError) || attempt > 0) throw error;
        deps.sessionKeys.forget(ref.sessionId);
      }
    }
  };
}

/** What one delivery has done so far, across its attempts in one activity run. */
export interface DeliveryAttempt {
  /** User messages the agent held before this message: recorded (`save`) before posting, so a retry after a lost answer still knows it. */
  baseline: number;
  posted: boolean;
}

/**
 * One attempt at the delivery the file's head describes: posts the message unless the agent
 * already holds more than `baseline`, then makes sure a run is going. 'capacity-full': the agent
 * server has no run capacity now (the message may be posted); the caller waits and tries again,
 * or leaves it to the deliverMessage activity.
 *
 * More than `baseline` means "posted before" only if the newest user message is this one. A
 * baseline can be too low: a message the server saved and then failed on (a 4xx on the search
 * after the post) is recorded as refused, and the workflow never counted it. Without the check,
 * the next message would find that one there, count itself delivered and never be posted.
 */
export async function attemptDelivery(
  client: AgentServerClient,
  input: Pick<DeliveryInput, 'agentConversationId' | 'text' | 'continueTurn'>,
  attempt: DeliveryAttempt,
  save: (baseline: number) => void,
): Promise<Delivery | 'capacity-full'> {
  const id = input.agentConversationId;
  const signal = cancellationSignal();
  const present = await client.countEvents(id, USER_MESSAGES, { signal });
  let newest: AgentEvent | undefined;
  if (present > attempt.baseline && !attempt.posted && !input.continueTurn) {
    newest = await newestUserMessage(client, id, signal);
    if (!(newest && isMessageFrom(newest, 'user') && messageText(newest) === input.text)) attempt.baseline = present;
  }
  if (present <= attempt.baseline) {
    attempt.baseline = present;
    save(present);
    const { runStarted } = await client.sendMessage(id, { role: 'user', content: [{ type: 'text', text: input.text }], run: true }, { signal });
    attempt.posted = true;
    if (runStarted) return delivered(client, id, present + 1, false);
    // 429: saved, but no run capacity: ask for the run on its own.
    return (await runUnlessAnswered(client, id)) === 'capacity-full' ? 'capacity-full' : delivered(client, id, present + 1, false);
  }
  const run = input.continueTurn && !attempt.posted ? await runUnlessRunning(client, id) : await runUnlessAnswered(client, id);
  // Nothing was posted since `newest` was read: it is still the newest user message.
  return run === 'capacity-full' ? 'capacity-full' : delivered(client, id, present, !attempt.posted, newest);
}

export function agentActivities(deps: ActivityDeps) {
  const withAgent = agentCaller(deps);

  return {
    /**
     * Idempotent (the ID is derived from the conversation ID); also reports how many user messages it holds.
     * `conversationId` is set on a shared runtime, whose session is not the conversation's.
     */
    async createAgentConversation(input: RuntimeRef & { conversationId?: string }): Promise<{ agentConversationId: string; created: boolean; userMessages: number }> {
      const conversationId = input.conversationId ?? input.sessionId;
      const agentConversationId = agentConversationIdFor(conversationId);
      const request = await deps.startRequest(conversationId, agentConversationId);
      return withAgent(input, async (client) => {
        const signal = cancellationSignal();
        const { created } = await client.createConversation(request, { signal });
        const userMessages = created ? 0 : await client.countEvents(agentConversationId, USER_MESSAGES, { signal });
        return { agentConversationId, created, userMessages };
      });
    },

    /** Posts the message unless the agent already holds it, and makes sure the agent runs on it. */
    async deliverMessage(input: DeliveryInput): Promise<Delivery> {
      // A retry trusts the count its first attempt posted on top of over the workflow's.
      const attempt: DeliveryAttempt = { baseline: lastProgress<{ baseline?: number }>()?.baseline ?? input.userMessagesBefore, posted: false };
      return withAgent(input, async (client) => {
        for (let wait: number = CAPACITY_RETRY_MS.first; ; wait = Math.min(wait * 2, CAPACITY_RETRY_MS.max)) {
          const outcome = await attemptDelivery(client, input, attempt, (baseline) => progress({ baseline }));
          if (outcome !== 'capacity-full') return outcome;
          log.info('agent server has no run capacity; retrying /run', { messageId: input.messageId, waitMs: wait });
          await sleep(wait);
        }
      });
    },

    /** Waits until this message's turn has ended (see turns.ts), woken by the agent server's event socket. */
    /**
     * Follows the turn to its end. With `replyMaxBytes` (a batch item) the outcome also carries
     * the agent's newest reply, read while the agent conversation surely exists: a reply read
     * later, at close, could meet a retry after the conversation was deleted, and be lost.
     */
    async awaitTurn(input: AgentRef & { since?: string; replyMaxBytes?: number }): Promise<TurnOutcome> {
      const signal = cancellationSignal();
      const conversationId = input.agentConversationId;
      return withAgent(input, async (client, sessionApiKey) => {
        const outcome = await followTurn(client, conversationId, input.since, signal, () =>
          openEventStream({ baseUrl: input.url, conversationId, sessionApiKey, afterTimestamp: input.since, signal, dispatcher: deps.agentDispatcher }),
        );
        if (input.replyMaxBytes === undefined) return outcome;
        return { ...outcome, reply: await newestReply(client, conversationId, input.replyMaxBytes, signal) };
      });
    },

    /** Stops a running turn at once (/interrupt; /pause on servers without it); false when the conversation is unknown. */
    async interruptAgent(input: AgentRef): Promise<boolean> {
      return withAgent(input, async (client) => {
        const signal = cancellationSignal();
        return (await client.interrupt(input.agentConversationId, { signal })) || (await client.pauseIfKnown(input.agentConversationId, { signal }));
      });
    },

    /** Frees what the conversation holds in the runtime (tmux sessions, file handles); false when it was already gone. */
    async deleteAgentConversation(input: AgentRef & { keepTranscript?: boolean }): Promise<boolean> {
      return withAgent(input, async (client) => {
        // The agent's events go with the agent conversation: keep them first (transcripts.ts). A batch turn
        // keeps none: its reply is in the batch's results, and reading 100,000 event logs would cost more than the turns.
        if (input.keepTranscript !== false) await keepTranscriptWith(deps, client, input.sessionId, input.agentConversationId);
        return client.deleteConversation(input.agentConversationId, { signal: cancellationSignal() });
      });
    },
  };
}

/**
 * The message is in the conversation; start a run unless one is running or the agent
 * already answered it (a /run then would make the agent take another turn on its own).
 */
async function runUnlessAnswered(client: AgentServerClient, id: string): Promise<RunOutcome> {
  const signal = cancellationSignal();
  const info = await client.getConversation(id, { signal });
  if (info.execution_status === 'running') return 'already-running';
  const newest = await client.searchEvents(id, { sort_order: 'TIMESTAMP_DESC', limit: 20 }, { signal });
  const lastReal = newest.items.find((event) => event.kind !== 'ConversationStateUpdateEvent');
  if (lastReal && !(lastReal.kind === 'MessageEvent' && lastReal.source === 'user')) return 'already-running';
  return client.run(id, { signal });
}

async function runUnlessRunning(client: AgentServerClient, id: string): Promise<RunOutcome> {
  const signal = cancellationSignal();
  if ((await client.getConversation(id, { signal })).execution_status === 'running') return 'already-running';
  return client.run(id, { signal });
}

async function newestUserMessage(client: AgentServerClient, id: string, signal: AbortSignal): Promise<AgentEvent | undefined> {
  return (await client.searchEvents(id, { ...USER_MESSAGES, sort_order: 'TIMESTAMP_DESC', limit: 1 }, { signal })).items[0];
}

/** `newest`: the newest user message, when already read since the last post. */
async function delivered(client: AgentServerClient, id: string, userMessages: number, alreadyPresent: boolean, newest?: AgentEvent): Promise<Delivery> {
  const event = newest ?? (await newestUserMessage(client, id, cancellationSignal()));
  return { userMessages, alreadyPresent, since: event?.timestamp };
}

/** The agent's newest message, cut to `maxBytes`; null when it gave none. */
async function newestReply(client: AgentServerClient, id: string, maxBytes: number, signal: AbortSignal): Promise<string | null> {
  const newest = await client.searchEvents(id, { kind: 'MessageEvent', source: 'agent', sort_order: 'TIMESTAMP_DESC', limit: 1 }, { signal });
  const event = newest.items[0];
  return event && isMessageFrom(event, 'agent') ? truncateUtf8(messageText(event), maxBytes) : null;
}

function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= maxBytes ? text : `${bytes.subarray(0, maxBytes).toString('utf8')}…`;
}
