// The one request helper both clients use: build the URL, send, map the status to a
// typed error, parse JSON, validate the schema. Every failure leaves here as a
// RuntimeHttpError naming the call (its label), except a caller's abort, which
// rethrows the signal's reason so cancellation stays cancellation.
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { observeHttpCall } from '../observability/http-calls.js';
import {
  BadRequestError,
  InvalidResponseError,
  NetworkError,
  NotFoundError,
  RateLimitedError,
  RequestTimeoutError,
  RuntimeDisconnectedError,
  RuntimePausedError,
  ServerError,
  UnauthorizedError,
} from './errors.js';
import type { RuntimeHttpError, RuntimeHttpErrorDetails } from './errors.js';
import { isSecretName, redact, secretValuesIn } from './redaction.js';

const EXCERPT_CHARS = 300;
/** How much of a response body is scrubbed and excerpted; the excerpt is cut from its start. */
const SCRUBBED_CHARS = 64 * 1024;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Which side answered: the same status means different things on each (503 = paused only on a runtime). */
export type Protocol = 'runtime-api' | 'agent-server';

export interface DispatcherOptions {
  connectTimeoutMs: number;
  timeoutMs: number;
  /** Connections per origin; null = unbounded. */
  connections: number | null;
}

/** One keep-alive pool per origin, with explicit connect/headers/body timeouts. */
export function createDispatcher(options: DispatcherOptions): Agent {
  return new Agent({
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connections: options.connections,
  });
}

/** How long a closing pool may wait for requests still in flight before they are cut. */
export const CLOSE_GRACE_MS = 5_000;

/**
 * Closes a connection pool: requests in flight may finish for `graceMs`, then whatever is
 * left is cut. Undici's `close()` waits for every request in flight, and once called it
 * cannot be cut short (a later `destroy()` waits for it too); a request to an agent server
 * that stopped answering has a 600 s timeout, so a worker's shutdown could hang that long.
 */
export async function closeDispatcher(dispatcher: Agent, graceMs = CLOSE_GRACE_MS): Promise<void> {
  const deadline = Date.now() + graceMs;
  const busy = () => Object.values(dispatcher.stats).some((origin) => origin.size > 0);
  while (busy() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await dispatcher.destroy();
}

export interface EndpointOptions {
  protocol: Protocol;
  baseUrl: string;
  dispatcher: Dispatcher;
  /** Applied per request as headersTimeout and bodyTimeout, so a shared dispatcher keeps each client's own. */
  timeoutMs: number;
  /** Sent on every request (auth). */
  headers: Record<string, string>;
}

/** Every client method takes these last; activities pass their cancellation signal. */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface CallSpec<T> {
  label: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** Appended to the base URL's path; build it with the `path` tag so parameters get encoded. */
  path: UrlPath;
  query?: Record<string, string | number | undefined>;
  /** JSON-encoded when defined. */
  body?: unknown;
  headers?: Record<string, string>;
  schema: z.ZodType<T>;
  /** `text` hands the raw body to the schema (for endpoints whose body is not checked). @default 'json' */
  bodyAs?: 'json' | 'text';
  /** Non-2xx statuses that are answers, not errors: resolve `{ ok: false, status }`. */
  allow?: readonly number[];
  signal?: AbortSignal;
}

export type Success<T> = { ok: true; status: number; data: T };
export type CallResult<T> = Success<T> | { ok: false; status: number };

export class HttpEndpoint {
  readonly #options: EndpointOptions;
  readonly #base: URL;
  readonly #prefix: string;
  /** The secrets this endpoint sends on every request (its auth headers): never echoed into an error. */
  readonly #secrets: string[];

  constructor(options: EndpointOptions) {
    this.#options = { ...options, headers: { ...options.headers } };
    this.#secrets = secretHeaderValues(this.#options.headers);
    // Keep any path prefix (runtime URLs may look like http://host/sandboxes/abc), minus a trailing slash.
    // (Kept as a string: a URL's pathname can never be empty, so `/` would double up.)
    this.#base = new URL(options.baseUrl);
    this.#prefix = this.#base.pathname.replace(/\/+$/, '');
  }

  /** The validated body of a 2xx; every other status throws. */
  async json<T>(spec: CallSpec<T> & { allow?: undefined }): Promise<T> {
    return (await this.call(spec)).data;
  }

  /** Status and validated body of a 2xx; statuses listed in `allow` resolve as `{ ok: false, status }`. */
  call<T>(spec: CallSpec<T> & { allow: readonly number[] }): Promise<CallResult<T>>;
  call<T>(spec: CallSpec<T> & { allow?: undefined }): Promise<Success<T>>;
  async call<T>(spec: CallSpec<T>): Promise<CallResult<T>> {
    return observeHttpCall({ protocol: this.#options.protocol, label: spec.label, method: spec.method }, (traceHeaders) => this.#send(spec, traceHeaders));
  }

  async #send<T>(spec: CallSpec<T>, traceHeaders: Record<string, string>): Promise<CallResult<T>> {
    const url = this.#url(spec);
    const headers: Record<string, string> = { accept: 'application/json', ...traceHeaders, ...this.#options.headers, ...spec.headers };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    let status: number;
    let responseHeaders: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const response = await request(url, {
        method: spec.method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        dispatcher: this.#options.dispatcher,
        headersTimeout: this.#options.timeoutMs,
        bodyTimeout: this.#options.timeoutMs,
        signal: spec.signal,
      });
      status = response.statusCode;
      responseHeaders = response.headers;
      text = await response.body.text();
    } catch (error) {
      throw transportError(spec.label, error, spec.signal);
    }
    // Whatever this call sent that is secret (auth headers, a body's api_key) must not come back in an error.
    const scrub = (body: string) => excerpt(body, [...this.#secrets, ...secretHeaderValues(spec.headers ?? {}), ...secretValuesIn(spec.body)]);
    if (status >= 200 && status < 300) return { ok: true, status, data: parseBody(spec, status, text, scrub) };
    if (spec.allow?.includes(status)) return { ok: false, status };
    throw statusError(this.#options.protocol, { label: spec.label, status, bodyExcerpt: scrub(text) }, responseHeaders);
  }

  #url(spec: CallSpec<unknown>): string {
    const url = new URL(this.#base.href);
    url.pathname = `${this.#prefix}${renderPath(spec.label, spec.path)}`;
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.append(key, String(value));
    }
    return url.href;
  }
}

function parseBody<T>(spec: CallSpec<T>, status: number, text: string, scrub: (body: string) => string | undefined): T {
  const details = { label: spec.label, status, bodyExcerpt: scrub(text) };
  let value: unknown = text;
  if (spec.bodyAs !== 'text') {
    try {
      // An empty body is `undefined`: fine for calls read by status only, a mismatch elsewhere.
      value = text.trim() === '' ? undefined : JSON.parse(text);
    } catch (error) {
      // JSON.parse quotes the body in its message; keep only the scrubbed version of it.
      const cause = new SyntaxError(scrub(error instanceof Error ? error.message : String(error)));
      throw new InvalidResponseError(`${spec.label}: response is not JSON`, { ...details, cause });
    }
  }
  const parsed = spec.schema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidResponseError(`${spec.label}: response does not match the contract: ${parsed.error.message}`, {
      ...details,
      cause: parsed.error,
    });
  }
  return parsed.data;
}

function statusError(protocol: Protocol, details: RuntimeHttpErrorDetails, headers: Record<string, string | string[] | undefined>): RuntimeHttpError {
  const status = details.status ?? 0;
  const message = `${details.label}: HTTP ${status}${details.bodyExcerpt ? ` ${details.bodyExcerpt}` : ''}`;
  const agent = protocol === 'agent-server';
  if (status === 401 || status === 403) return new UnauthorizedError(message, details);
  if (status === 404) return agent ? new RuntimeDisconnectedError(message, details) : new NotFoundError(message, details);
  if (status === 408) return new RequestTimeoutError(message, details);
  if (status === 429) return new RateLimitedError(message, details, parseRetryAfter(headers['retry-after']));
  if (status >= 400 && status < 500) return new BadRequestError(message, details);
  if (agent && status === 503) return new RuntimePausedError(message, details);
  if (agent && (status === 502 || status === 504)) return new RuntimeDisconnectedError(message, details);
  if (status >= 500) return new ServerError(message, details);
  // 1xx/3xx: redirects are not followed and neither protocol uses them.
  return new InvalidResponseError(message, details);
}

function transportError(label: string, error: unknown, signal: AbortSignal | undefined): unknown {
  // Whatever undici threw while the caller's signal fired, the caller asked for this.
  if (signal?.aborted) return signal.reason ?? error;
  const code = (error as { code?: unknown } | null)?.code;
  const reason = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return new RequestTimeoutError(`${label}: ${reason}`, { label, cause: error });
  }
  return new NetworkError(`${label}: ${reason}`, { label, cause: error });
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The start of a response body for an error, scrubbed of `secrets` and of anything keyed like one (before it is cut). */
function excerpt(text: string, secrets: readonly string[]): string | undefined {
  return text === '' ? undefined : redact(text.slice(0, SCRUBBED_CHARS), secrets).slice(0, EXCERPT_CHARS);
}

function secretHeaderValues(headers: Record<string, string>): string[] {
  return Object.entries(headers).flatMap(([name, value]) => (isSecretName(name) ? [value, value.replace(/^(Bearer|Basic|Token)\s+/i, '')] : []));
}

export interface UrlPath {
  readonly strings: readonly string[];
  readonly params: readonly string[];
}

/** Tag for request paths: path`/runtime/${id}`. Parameters are encoded when the request is built. */
export const path = (strings: TemplateStringsArray, ...params: string[]): UrlPath => ({ strings: [...strings], params });

function renderPath(label: string, template: UrlPath): string {
  return template.strings.reduce((out, part, i) => {
    const param = template.params[i];
    if (param === undefined) return out + part;
    // An empty or dot segment would still change the route after encoding (URLs resolve `..`).
    if (param === '' || param === '.' || param === '..') {
      throw new BadRequestError(`${label}: invalid path parameter ${JSON.stringify(param)}`, { label });
    }
    return out + part + encodeURIComponent(param);
  }, '');
}

/** Validate (and default) a request before sending: bad input fails here, typed and non-retryable. */
export function validateRequest<T>(label: string, schema: z.ZodType<T, unknown>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new BadRequestError(`${label}: invalid request: ${parsed.error.message}`, { label, cause: parsed.error });
}
