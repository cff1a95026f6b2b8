// A minimal router over node:http: exact paths with `:param` segments, JSON in and out,
// schema-checked bodies and queries, and one place that maps errors to responses.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { HttpError, badRequest, payloadTooLarge, unprocessable } from './errors.js';

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  /** Reads and parses the JSON body against `schema`; 400 bad JSON, 413 too large, 422 invalid. */
  body<T extends z.ZodType>(schema: T): Promise<z.output<T>>;
  /** Parses the query string against `schema`; 422 when invalid. */
  queryAs<T extends z.ZodType>(schema: T): z.output<T>;
}

/** A handler returns the JSON body (status 200), or a `{ status, body }` pair. */
export type RouteResult = unknown | { readonly status: number; readonly body: unknown; readonly [REPLY]: true };
export type RouteHandler = (ctx: RouteContext) => Promise<RouteResult> | RouteResult;

const REPLY = Symbol('reply');
export const reply = (status: number, body: unknown) => ({ status, body, [REPLY]: true as const });

interface Route {
  readonly method: string;
  readonly segments: readonly string[];
  readonly handler: RouteHandler;
}

export interface RouterOptions {
  /** Largest accepted request body. @default 1 MiB */
  readonly maxBodyBytes?: number;
  /** Called for every unexpected error, with the ID the caller was given. */
  readonly onInternalError?: (errorId: string, error: unknown) => void;
  /** Runs before every route, e.g. authentication; throw an HttpError to refuse. */
  readonly before?: (req: IncomingMessage, path: string) => void;
}

export class Router {
  readonly #routes: Route[] = [];
  readonly #maxBodyBytes: number;
  readonly #options: RouterOptions;

  constructor(options: RouterOptions = {}) {
    this.#options = options;
    this.#maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  }

  on(method: string, pattern: string, handler: RouteHandler): this {
    this.#routes.push({ method, segments: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** The request listener to pass to `http.createServer`. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    this.#handle(req, res).catch((error: unknown) => this.#fail(res, error));
  };

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const segments = url.pathname.split('/').filter(Boolean).map(decodeSegment);
    const matches = this.#routes.map((route) => ({ route, params: matchSegments(route.segments, segments) }));
    const onPath = matches.filter((m) => m.params !== undefined);
    if (onPath.length === 0) throw new HttpError(404, `no route for ${url.pathname}`);
    const hit = onPath.find((m) => m.route.method === req.method);
    if (!hit) throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
    this.#options.before?.(req, url.pathname);
    const ctx: RouteContext = {
      req,
      params: hit.params ?? {},
      query: url.searchParams,
      body: async (schema) => parseWith(schema, await readJson(req, this.#maxBodyBytes)),
      queryAs: (schema) => parseWith(schema, Object.fromEntries(url.searchParams)),
    };
    const result = await hit.route.handler(ctx);
    if (isReply(result)) sendJson(res, result.status, result.body);
    else sendJson(res, 200, result);
  }

  #fail(res: ServerResponse, error: unknown): void {
    if (error instanceof HttpError) {
      sendJson(res, error.status, { detail: error.detail }, error.headers);
      return;
    }
    const errorId = randomUUID();
    this.#options.onInternalError?.(errorId, error);
    sendJson(res, 500, { detail: 'Internal Server Error', error_id: errorId });
  }
}

function isReply(value: unknown): value is { status: number; body: unknown } {
  return typeof value === 'object' && value !== null && REPLY in value;
}

/** A path segment, percent-decoded; a malformed escape (`%zz`, a cut-off UTF-8 sequence) is the caller's mistake. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`malformed percent-encoding in the path segment ${JSON.stringify(segment)}: write % as %25`);
  }
}

function matchSegments(pattern: readonly string[], actual: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    const value = actual[i] as string;
    if (part.startsWith(':')) params[part.slice(1)] = value;
    else if (part !== value) return undefined;
  }
  return params;
}

function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  // The issues name the offending field and say what was expected, FastAPI-style.
  throw unprocessable(parsed.error.issues.map((i) => ({ loc: i.path, msg: i.message })));
}

async function readJson(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limitBytes) throw payloadTooLarge(limitBytes, declared);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw payloadTooLarge(limitBytes);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('request body is not valid JSON');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Compares secrets in constant time, so response timing does not reveal a key's prefix. */
export function secretsEqual(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
