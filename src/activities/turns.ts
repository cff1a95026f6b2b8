// Following one turn: from a delivered user message until the agent has answered it.
// The status alone cannot say that: right after a message is posted with `run: true`
// the real server may still report `idle`, or the previous turn's `finished` or `error`.
// So a turn ends only on a stopped status (finished, error, stuck, paused) once the agent
// has reacted to this message: an event after it that is neither the user's nor a state
// update. Short read failures (a restart, a 503 while the runtime comes back) are waited
// out here; longer ones go to the workflow, which recovers the runtime.
//
// The agent server's event socket says when to look: a check runs when the stream reports
// a stopped status, and otherwise every few seconds as a safety net. If the socket cannot
// be opened or drops, polling with a short backoff takes over, so a socket is never needed
// for correctness, only for cheapness during bursts.
//
// A read failure that passes may have been a restart of the agent server. Its run died
// with it, and the real server then reports the saved "running" until something reloads
// the conversation, so the loop would wait forever. So when reads come back, the server's
// uptime says whether it restarted meanwhile; if it did, the turn goes back to the
// workflow, which recovers the runtime and carries the turn on.
import { heartbeat, sleep } from '@temporalio/activity';
import type { AgentEvent, AgentServerClient, EventStream } from '../runtime-api/index.js';
import {
  NetworkError,
  RequestTimeoutError,
  RUN_STOPPED_STATUSES,
  RuntimeDisconnectedError,
  RuntimePausedError,
  RuntimeRestartedError,
  ServerError,
} from '../runtime-api/index.js';

export interface TurnOutcome {
  readonly executionStatus: string;
  readonly durationMs: number;
  /** The agent's newest reply, when asked for (null: it gave none). */
  readonly reply?: string | null;
}

/** How long reads may keep failing before the runtime counts as lost. */
const READ_FAILURE_BUDGET_MS = 20_000;
/** A turn that shows no sign of running for this long gets one more /run (a start refused for capacity, say). */
const NUDGE_AFTER_MS = 30_000;
const POLL_MS = { first: 10, max: 500 } as const;
/** With a live event stream, a check this often still catches anything the stream missed. */
const SAFETY_POLL_MS = 3_000;

export async function followTurn(
  client: AgentServerClient,
  id: string,
  since: string | undefined,
  signal: AbortSignal,
  openStream?: () => Promise<EventStream>,
): Promise<TurnOutcome> {
  const startedAt = Date.now();
  const watcher = openStream ? watchStream(openStream) : undefined;
  let lastSignOfLife = startedAt;
  let failingSince: number | undefined;
  let lastReadAt = startedAt;
  try {
    for (let delay: number = POLL_MS.first; ; delay = Math.min(delay * 1.5, POLL_MS.max)) {
      try {
        const status = (await client.getConversation(id, { signal })).execution_status;
        if (failingSince !== undefined) await throwIfRestarted(client, lastReadAt, signal);
        failingSince = undefined;
        lastReadAt = Date.now();
        if (status === 'running') lastSignOfLife = Date.now();
        if ((RUN_STOPPED_STATUSES as readonly string[]).includes(status) && (await agentReacted(client, id, since, signal))) {
          return { executionStatus: status, durationMs: Date.now() - startedAt };
        }
        if (status !== 'running' && Date.now() - lastSignOfLife > NUDGE_AFTER_MS) {
          lastSignOfLife = Date.now();
          await client.run(id, { signal });
        }
        heartbeat({ status });
      } catch (error) {
        if (signal.aborted || !isPassing(error)) throw error;
        failingSince ??= Date.now();
        if (Date.now() - failingSince > READ_FAILURE_BUDGET_MS) throw error;
      }
      await (watcher?.live ? watcher.next(SAFETY_POLL_MS) : sleep(delay));
    }
  } finally {
    watcher?.close();
  }
}

/** Throws RuntimeRestartedError when the server has been up for less time than since `lastReadAt`. */
async function throwIfRestarted(client: AgentServerClient, lastReadAt: number, signal: AbortSignal): Promise<void> {
  let uptimeMs: number;
  try {
    // Whole seconds on the real server: one more second keeps a server that was up all along from looking new.
    uptimeMs = ((await client.serverInfo({ signal })).uptime + 1) * 1000;
  } catch (error) {
    // The conversation was just read, so a 404 here means a server without /server_info: no way to tell.
    if (error instanceof RuntimeDisconnectedError && error.status === 404) return;
    throw error;
  }
  const outOfReachMs = Date.now() - lastReadAt;
  if (uptimeMs < outOfReachMs) {
    throw new RuntimeRestartedError(`the agent server restarted during the turn (up ${Math.round(uptimeMs / 1000)} s, out of reach ${Math.round(outOfReachMs / 1000)} s); its run was lost`, {
      label: 'agent.serverInfo',
    });
  }
}

interface StreamWatcher {
  /** False until the stream is open, and again once it ended or failed. */
  readonly live: boolean;
  /** Resolves when the stream reports a stopped status (or ends), or after `ms`. */
  next(ms: number): Promise<void>;
  close(): void;
}

/** Reads the event stream in the background; it only ever wakes the check loop, which decides. */
function watchStream(open: () => Promise<EventStream>): StreamWatcher {
  let live = false;
  let stream: EventStream | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  const fire = () => {
    wake?.();
    wake = undefined;
  };
  void (async () => {
    try {
      stream = await open();
      if (closed) return stream.close();
      live = true;
      for await (const event of stream) if (stoppedStatusIn(event)) fire();
    } catch {
      // The socket is an optimisation: polling carries on without it.
    } finally {
      live = false;
      fire();
    }
  })();
  return {
    get live() {
      return live;
    },
    next: async (ms) => {
      const woken = new Promise<void>((resolve) => (wake = resolve));
      await Promise.race([sleep(ms), woken]);
    },
    close: () => {
      closed = true;
      stream?.close();
    },
  };
}

/** The execution status a state-update event carries, per field or in a full snapshot, if it is a stopped one. */
function stoppedStatusIn(event: AgentEvent): boolean {
  if (event.kind !== 'ConversationStateUpdateEvent') return false;
  const { key, value } = event as { key?: unknown; value?: unknown };
  const status = key === 'execution_status' ? value : key === 'full_state' ? (value as { execution_status?: unknown } | null)?.execution_status : undefined;
  return typeof status === 'string' && (RUN_STOPPED_STATUSES as readonly string[]).includes(status);
}

/** Whether any event after the user's message (at `since`) comes from the agent's side. */
async function agentReacted(client: AgentServerClient, id: string, since: string | undefined, signal: AbortSignal): Promise<boolean> {
  const page = await client.searchEvents(id, { timestamp__gte: since, sort_order: 'TIMESTAMP_DESC', limit: 20 }, { signal });
  if (since !== undefined) return page.items.some(isReaction);
  // Without a timestamp: the newest event that is not a state update must not be the user's.
  const newest = page.items.find((event) => event.kind !== 'ConversationStateUpdateEvent');
  return newest !== undefined && isReaction(newest);
}

function isReaction(event: { kind: string; source?: string }): boolean {
  return event.source !== 'user' && event.kind !== 'ConversationStateUpdateEvent';
}

/**
 * Failures that a runtime restart or a short network fault explains. A 404 is not one:
 * an agent server that answers but no longer knows the conversation lost it for good.
 */
function isPassing(error: unknown): boolean {
  if (error instanceof RuntimeDisconnectedError) return error.status !== 404;
  return [NetworkError, RequestTimeoutError, ServerError, RuntimePausedError].some((type) => error instanceof type);
}
