// When a conversation's agent server recorded a user message, read straight from the
// runtime (Runtime API session → agent server events), never through the workflow: a
// query would bring an idle conversation into the worker's cache and spoil the
// cached/uncached comparison.
import { setTimeout as sleep } from 'node:timers/promises';
import { agentConversationIdFor } from '../../src/activities/agent.js';
import { AgentServerClient, createAgentServerDispatcher, isMessageFrom, messageText } from '../../src/runtime-api/index.js';
import type { RuntimeApiClient } from '../../src/runtime-api/index.js';
import { mapLimit } from './stats.js';

export interface Sent {
  readonly conversationId: string;
  readonly text: string;
  readonly sentAt: number;
}

export class RecordedMessages {
  readonly #runtimeApi: RuntimeApiClient;
  readonly #dispatcher = createAgentServerDispatcher();
  readonly #clients = new Map<string, AgentServerClient>();

  constructor(runtimeApi: RuntimeApiClient) {
    this.#runtimeApi = runtimeApi;
  }

  /** When the conversation's agent server recorded the user message `text` (epoch ms), or undefined. */
  async recordedAt(conversationId: string, text: string): Promise<number | undefined> {
    const agent = await this.#client(conversationId);
    let pageId: string | undefined;
    do {
      const page = await agent.searchEvents(agentConversationIdFor(conversationId), { page_id: pageId, limit: 100 });
      const found = page.items.find((e) => isMessageFrom(e, 'user') && messageText(e) === text);
      if (found) return Date.parse(found.timestamp);
      pageId = page.next_page_id ?? undefined;
    } while (pageId);
    return undefined;
  }

  /** Polls until every message is recorded; send → recorded latencies (ms), in `sent`'s order. */
  async latencies(sent: readonly Sent[], timeoutMs = 300_000, pollMs = 1_000): Promise<number[]> {
    const recorded = new Map<Sent, number>();
    const deadline = Date.now() + timeoutMs;
    while (recorded.size < sent.length) {
      if (Date.now() > deadline) throw new Error(`${sent.length - recorded.size} messages were not recorded within ${timeoutMs} ms`);
      const pending = sent.filter((s) => !recorded.has(s));
      const found = await mapLimit(pending, 8, (s) => this.recordedAt(s.conversationId, s.text).catch(() => undefined));
      pending.forEach((s, i) => found[i] !== undefined && recorded.set(s, found[i]));
      if (recorded.size < sent.length) await sleep(pollMs);
    }
    return sent.map((s) => recorded.get(s)! - s.sentAt);
  }

  async close(): Promise<void> {
    this.#clients.clear();
    await this.#dispatcher.close();
  }

  async #client(conversationId: string): Promise<AgentServerClient> {
    let client = this.#clients.get(conversationId);
    if (!client) {
      const session = await this.#runtimeApi.getSession(conversationId);
      if (!session) throw new Error(`${conversationId} has no runtime`);
      client = new AgentServerClient({ baseUrl: session.url, sessionApiKey: session.session_api_key ?? undefined, dispatcher: this.#dispatcher });
      this.#clients.set(conversationId, client);
    }
    return client;
  }
}
