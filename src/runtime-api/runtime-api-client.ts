// Typed client for the Runtime API (control plane), openhands-contract.md §1.
// Every call carries `X-API-Key`; non-2xx answers become typed errors (see http.ts),
// except the few statuses the contract gives a meaning (404 on getSession and stop).
import type { Agent, Dispatcher } from 'undici';
import { HttpEndpoint, closeDispatcher, createDispatcher, path, validateRequest } from './http.js';
import type { CallOptions, UrlPath } from './http.js';
import {
  imageExistsResponseSchema,
  registryPrefixResponseSchema,
  runtimeActionResponseSchema,
  runtimeIdRequestSchema,
  runtimeInfoSchema,
  runtimeListResponseSchema,
  sessionInfoSchema,
  startRuntimeRequestSchema,
  startRuntimeResponseSchema,
} from './runtime-api-schemas.js';
import type {
  RuntimeInfo,
  RuntimeListResponse,
  SessionInfo,
  StartRuntimeRequest,
  StartRuntimeResponse,
} from './runtime-api-schemas.js';

export interface RuntimeApiClientOptions {
  /** e.g. `http://127.0.0.1:8000`; a path prefix is kept. */
  baseUrl: string;
  /** Sent as `X-API-Key`. */
  apiKey: string;
  /** Headers and body timeout per request (OpenHands `remote_runtime_api_timeout`). @default 180s */
  timeoutMs?: number;
  /** TCP/TLS connect timeout; ignored when `dispatcher` is given. @default 10s */
  connectTimeoutMs?: number;
  /** Connections per origin; null = unbounded. Ignored when `dispatcher` is given. @default null */
  connections?: number | null;
  /** Share an existing dispatcher; the caller then owns it and `close()` leaves it open. */
  dispatcher?: Dispatcher;
}

export const RUNTIME_API_DEFAULTS = { timeoutMs: 180_000, connectTimeoutMs: 10_000, connections: null } as const;

export class RuntimeApiClient {
  readonly #http: HttpEndpoint;
  readonly #dispatcher: Dispatcher;
  /** The pool this client made (none when it was given one to share); close() ends it. */
  readonly #ownPool: Agent | undefined;
  /** Where it sends requests, for messages that must say so. */
  readonly baseUrl: string;

  constructor(options: RuntimeApiClientOptions) {
    this.baseUrl = options.baseUrl;
    const timeoutMs = options.timeoutMs ?? RUNTIME_API_DEFAULTS.timeoutMs;
    this.#ownPool =
      options.dispatcher === undefined
        ? createDispatcher({
            timeoutMs,
            connectTimeoutMs: options.connectTimeoutMs ?? RUNTIME_API_DEFAULTS.connectTimeoutMs,
            connections: options.connections === undefined ? RUNTIME_API_DEFAULTS.connections : options.connections,
          })
        : undefined;
    this.#dispatcher = options.dispatcher ?? (this.#ownPool as Agent);
    this.#http = new HttpEndpoint({
      protocol: 'runtime-api',
      baseUrl: options.baseUrl,
      dispatcher: this.#dispatcher,
      timeoutMs,
      headers: { 'X-API-Key': options.apiKey },
    });
  }

  /** The runtime of a session, or null when there is none (404). */
  async getSession(sessionId: string, options?: CallOptions): Promise<SessionInfo | null> {
    const result = await this.#http.call({
      label: 'runtime-api.getSession',
      method: 'GET',
      path: path`/sessions/${sessionId}`,
      schema: sessionInfoSchema,
      allow: [404],
      signal: options?.signal,
    });
    return result.ok ? result.data : null;
  }

  async start(request: StartRuntimeRequest, options?: CallOptions): Promise<StartRuntimeResponse> {
    const label = 'runtime-api.start';
    const body = validateRequest(label, startRuntimeRequestSchema, request);
    return this.#http.json({ label, method: 'POST', path: path`/start`, body, schema: startRuntimeResponseSchema, signal: options?.signal });
  }

  /** Pod status of a runtime; NotFoundError when it does not exist. */
  async getRuntime(runtimeId: string, options?: CallOptions): Promise<RuntimeInfo> {
    return this.#http.json({
      label: 'runtime-api.getRuntime',
      method: 'GET',
      path: path`/runtime/${runtimeId}`,
      schema: runtimeInfoSchema,
      signal: options?.signal,
    });
  }

  async pause(runtimeId: string, options?: CallOptions): Promise<void> {
    await this.#action('runtime-api.pause', path`/pause`, runtimeId, [], options);
  }

  async resume(runtimeId: string, options?: CallOptions): Promise<void> {
    await this.#action('runtime-api.resume', path`/resume`, runtimeId, [], options);
  }

  /** Resolves on 404 too: a runtime that is already gone is stopped, so compensation can repeat. */
  async stop(runtimeId: string, options?: CallOptions): Promise<void> {
    await this.#action('runtime-api.stop', path`/stop`, runtimeId, [404], options);
  }

  async list(options?: CallOptions): Promise<RuntimeListResponse> {
    return this.#http.json({ label: 'runtime-api.list', method: 'GET', path: path`/list`, schema: runtimeListResponseSchema, signal: options?.signal });
  }

  async registryPrefix(options?: CallOptions): Promise<string> {
    const data = await this.#http.json({
      label: 'runtime-api.registryPrefix',
      method: 'GET',
      path: path`/registry_prefix`,
      schema: registryPrefixResponseSchema,
      signal: options?.signal,
    });
    return data.registry_prefix;
  }

  async imageExists(image: string, options?: CallOptions): Promise<boolean> {
    const data = await this.#http.json({
      label: 'runtime-api.imageExists',
      method: 'GET',
      path: path`/image_exists`,
      query: { image },
      schema: imageExistsResponseSchema,
      signal: options?.signal,
    });
    return data.exists;
  }

  /** Closes the connection pool if this client created it. */
  async close(): Promise<void> {
    if (this.#ownPool) await closeDispatcher(this.#ownPool);
  }

  /** `/pause`, `/resume`, `/stop`: body `{"runtime_id"}`, read by status code only. */
  async #action(label: string, route: UrlPath, runtimeId: string, allow: readonly number[], options?: CallOptions): Promise<void> {
    const body = validateRequest(label, runtimeIdRequestSchema, { runtime_id: runtimeId });
    await this.#http.call({ label, method: 'POST', path: route, body, schema: runtimeActionResponseSchema, allow, signal: options?.signal });
  }
}
