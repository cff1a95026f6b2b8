// Typed client for one runtime's agent server (data plane), openhands-contract.md §3.
// One instance per runtime (its URL and session key); many instances share one
// dispatcher from createAgentServerDispatcher(), so the worker holds one pool per origin.
// On this side 503 means "runtime paused" and 404/502/504 "runtime disconnected".
import type { Agent, Dispatcher } from 'undici';
import { z } from 'zod';
import { HttpEndpoint, closeDispatcher, createDispatcher, path, validateRequest } from './http.js';
import type { CallOptions } from './http.js';
import {
  conversationInfoSchema,
  countResponseSchema,
  eventCountQuerySchema,
  eventPageSchema,
  eventSearchQuerySchema,
  healthResponseSchema,
  serverInfoResponseSchema,
  sendMessageRequestSchema,
  startConversationRequestSchema,
  successResponseSchema,
} from './agent-server-schemas.js';
import type {
  ConversationInfo,
  EventCountQuery,
  EventPage,
  EventSearchQuery,
  ExecutionStatus,
  SendMessageRequest,
  StartConversationRequest,
} from './agent-server-schemas.js';

/** Slow LLM turns exceed 60 s, hence the long read timeout (the SDK uses 600 s too). */
export const AGENT_SERVER_DEFAULTS = { timeoutMs: 600_000, connectTimeoutMs: 10_000, connections: null } as const;

export interface AgentServerDispatcherOptions {
  /** @default 600s */
  timeoutMs?: number;
  /** @default 10s */
  connectTimeoutMs?: number;
  /** Connections per origin; null = unbounded (not httpx's 100, which starved parallel runs). @default null */
  connections?: number | null;
}

/** The shared pool for all AgentServerClients of a worker; the caller closes it. */
export function createAgentServerDispatcher(options: AgentServerDispatcherOptions = {}): Agent {
  return createDispatcher({
    timeoutMs: options.timeoutMs ?? AGENT_SERVER_DEFAULTS.timeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? AGENT_SERVER_DEFAULTS.connectTimeoutMs,
    connections: options.connections === undefined ? AGENT_SERVER_DEFAULTS.connections : options.connections,
  });
}

export interface AgentServerClientOptions extends AgentServerDispatcherOptions {
  /** The runtime `url`; may carry a path prefix (http://host/sandboxes/abc), which is kept. */
  baseUrl: string;
  /** Sent as `X-Session-API-Key` when set. */
  sessionApiKey?: string | null;
  /** Share a dispatcher (see createAgentServerDispatcher); then `close()` leaves it open. */
  dispatcher?: Dispatcher;
}

/** What POST /run answered: started, already running (409), or no run capacity free (429). */
export type RunOutcome = 'started' | 'already-running' | 'capacity-full';

export class AgentServerClient {
  readonly #http: HttpEndpoint;
  readonly #dispatcher: Dispatcher;
  /** The pool this client made (none when it was given one to share); close() ends it. */
  readonly #ownPool: Agent | undefined;

  constructor(options: AgentServerClientOptions) {
    this.#ownPool = options.dispatcher === undefined ? createAgentServerDispatcher(options) : undefined;
    this.#dispatcher = options.dispatcher ?? (this.#ownPool as Agent);
    this.#http = new HttpEndpoint({
      protocol: 'agent-server',
      baseUrl: options.baseUrl,
      dispatcher: this.#dispatcher,
      timeoutMs: options.timeoutMs ?? AGENT_SERVER_DEFAULTS.timeoutMs,
      headers: options.sessionApiKey ? { 'X-Session-API-Key': options.sessionApiKey } : {},
    });
  }

  /** Resolves true on any 2xx without reading the body (as OpenHands does); otherwise throws the typed error. */
  async alive(options?: CallOptions): Promise<true> {
    await this.#http.json({ label: 'agent.alive', method: 'GET', path: path`/alive`, schema: z.unknown(), bodyAs: 'text', signal: options?.signal });
    return true;
  }

  async health(options?: CallOptions): Promise<z.infer<typeof healthResponseSchema>> {
    return this.#http.json({ label: 'agent.health', method: 'GET', path: path`/health`, schema: healthResponseSchema, signal: options?.signal });
  }

  async serverInfo(options?: CallOptions): Promise<z.infer<typeof serverInfoResponseSchema>> {
    return this.#http.json({ label: 'agent.serverInfo', method: 'GET', path: path`/server_info`, schema: serverInfoResponseSchema, signal: options?.signal });
  }

  /** Idempotent when `conversation_id` is set: 201 created, 200 already there. */
  async createConversation(request: StartConversationRequest, options?: CallOptions): Promise<{ info: ConversationInfo; created: boolean }> {
    const label = 'agent.createConversation';
    const body = validateRequest(label, startConversationRequestSchema, request);
    const result = await this.#http.call({
      label,
      method: 'POST',
      path: path`/api/conversations`,
      body,
      schema: conversationInfoSchema,
      signal: options?.signal,
    });
    return { info: result.data, created: result.status === 201 };
  }

  async getConversation(id: string, options?: CallOptions): Promise<ConversationInfo> {
    return this.#http.json({
      label: 'agent.getConversation',
      method: 'GET',
      path: path`/api/conversations/${id}`,
      schema: conversationInfoSchema,
      signal: options?.signal,
    });
  }

  /**
   * Posts a message. The server has no idempotency (an Idempotency-Key is ignored), so a
   * caller that may repeat this must first check whether the message is already there.
   * A 429 means "saved, but no run capacity is free": retry `run()`, never resend.
   */
  async sendMessage(id: string, request: SendMessageRequest, options?: CallOptions): Promise<{ saved: true; runStarted: boolean }> {
    const label = 'agent.sendMessage';
    const body = validateRequest(label, sendMessageRequestSchema, request);
    const result = await this.#http.call({
      label,
      method: 'POST',
      path: path`/api/conversations/${id}/events`,
      body,
      schema: successResponseSchema,
      allow: [429],
      signal: options?.signal,
    });
    return { saved: true, runStarted: result.ok && body.run };
  }

  /** Starts the agent loop; 409 (already running) and 429 (capacity full) are answers, not errors. */
  async run(id: string, options?: CallOptions): Promise<RunOutcome> {
    const result = await this.#http.call({
      label: 'agent.run',
      method: 'POST',
      path: path`/api/conversations/${id}/run`,
      schema: successResponseSchema,
      allow: [409, 429],
      signal: options?.signal,
    });
    if (result.ok) return 'started';
    return result.status === 409 ? 'already-running' : 'capacity-full';
  }

  /** Cancels the in-flight LLM call and leaves the conversation `paused`; false when the id is unknown. */
  async interrupt(id: string, options?: CallOptions): Promise<boolean> {
    const result = await this.#http.call({
      label: 'agent.interrupt',
      method: 'POST',
      path: path`/api/conversations/${id}/interrupt`,
      schema: successResponseSchema,
      allow: [400, 404],
      signal: options?.signal,
    });
    return result.ok;
  }

  /** How many events match, e.g. `{ kind: 'MessageEvent', source: 'user' }`: the user messages the agent holds. */
  async countEvents(id: string, query: EventCountQuery = {}, options?: CallOptions): Promise<number> {
    const label = 'agent.countEvents';
    const { kind, source, timestamp__gte } = validateRequest(label, eventCountQuerySchema, query);
    return this.#http.json({
      label,
      method: 'GET',
      path: path`/api/conversations/${id}/events/count`,
      query: { kind, source, timestamp__gte },
      schema: countResponseSchema,
      signal: options?.signal,
    });
  }

  async pause(id: string, options?: CallOptions): Promise<void> {
    await this.#http.json({
      label: 'agent.pause',
      method: 'POST',
      path: path`/api/conversations/${id}/pause`,
      schema: successResponseSchema,
      signal: options?.signal,
    });
  }

  /** Like pause(), but an unknown conversation (404, or 400 on older servers) answers false instead of throwing. */
  async pauseIfKnown(id: string, options?: CallOptions): Promise<boolean> {
    const result = await this.#http.call({
      label: 'agent.pause',
      method: 'POST',
      path: path`/api/conversations/${id}/pause`,
      schema: successResponseSchema,
      allow: [400, 404],
      signal: options?.signal,
    });
    return result.ok;
  }

  /** True when deleted; false when unknown (404, or the 400 real servers send for unknown ids). */
  async deleteConversation(id: string, options?: CallOptions): Promise<boolean> {
    const result = await this.#http.call({
      label: 'agent.deleteConversation',
      method: 'DELETE',
      path: path`/api/conversations/${id}`,
      schema: successResponseSchema,
      allow: [400, 404],
      signal: options?.signal,
    });
    return result.ok;
  }

  async searchEvents(id: string, query: EventSearchQuery = {}, options?: CallOptions): Promise<EventPage> {
    const label = 'agent.searchEvents';
    const { page_id, limit, kind, source, timestamp__gte, sort_order } = validateRequest(label, eventSearchQuerySchema, query);
    return this.#http.json({
      label,
      method: 'GET',
      path: path`/api/conversations/${id}/events/search`,
      query: { page_id, limit, kind, source, timestamp__gte, sort_order },
      schema: eventPageSchema,
      signal: options?.signal,
    });
  }

  /** Number of conversations, optionally only those in one execution status. */
  async count(status?: ExecutionStatus, options?: CallOptions): Promise<number> {
    return this.#http.json({
      label: 'agent.count',
      method: 'GET',
      path: path`/api/conversations/count`,
      query: { status },
      schema: countResponseSchema,
      signal: options?.signal,
    });
  }

  /** Closes the connection pool if this client created it. */
  async close(): Promise<void> {
    if (this.#ownPool) await closeDispatcher(this.#ownPool);
  }
}
