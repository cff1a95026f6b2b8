// Scrubbing secrets out of text before it leaves in an error. An error's message travels
// far: into activity failures, workflow history, `info().lastError`, logs and the
// client's exceptions. A server that echoes a request (FastAPI's 422 puts the whole
// body in `input`) would otherwise carry the LLM key along. Two nets: every value known
// to be secret (registered here, or passed per call) is replaced wherever it appears,
// and any value keyed like a secret (api_key, token, authorization...) is replaced too.

export const REDACTED = '[redacted]';

/** Shorter values are not scrubbed as text: they would blank out ordinary words. */
const MIN_SECRET_CHARS = 6;

const registered = new Set<string>();

/**
 * Adds a value to scrub from every error text of this process (LLM_API_KEY, RUNTIME_API_KEY,
 * a resolved key). Idempotent. Per-runtime keys need not be registered: each client scrubs
 * the keys it sends, and a process-wide list of them would grow without end.
 */
export function registerSecret(value: string | null | undefined): void {
  if (typeof value === 'string' && value.length >= MIN_SECRET_CHARS) registered.add(value);
}

const SECRET_WORDS = 'keys?|token|secrets?|password|passwd|pwd|authorization|auth|credentials?|cookie|signature';
const SECRET_NAME = new RegExp(`(${SECRET_WORDS})$|secret|password`);

/** Whether a field or header name names a secret: `api_key`, `apiKey`, `X-Session-API-Key`, `Authorization`, `client_secret`... */
export function isSecretName(name: string): boolean {
  const flat = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  // A message ID, not a credential; and counts such as max_tokens are not tokens.
  if (flat === 'idempotencykey' || /tokens$/.test(flat)) return false;
  return SECRET_NAME.test(flat);
}

/** String values found under secret-named keys anywhere in `value` (e.g. a request body's agent.llm.api_key). */
export function secretValuesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) secretValuesIn(item, found);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (isSecretName(key) && typeof item === 'string') found.push(item);
      else secretValuesIn(item, found);
    }
  }
  return found;
}

/**
 * `text` with every secret value and every secret-keyed value replaced by [redacted].
 * JSON is scrubbed by structure (a secret-named key loses its whole value, objects
 * included) and re-serialised; other text by pattern (`key=value`, `key: value`, `"key": "value"`).
 */
export function redact(text: string, secrets: Iterable<string> = []): string {
  const known = [...registered, ...secrets].filter((secret) => secret.length >= MIN_SECRET_CHARS);
  let parsed: unknown;
  try {
    parsed = /^\s*[[{]/.test(text) ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined) return JSON.stringify(redactValue(parsed, known));
  return redactString(text, known);
}

function redactValue(value: unknown, known: readonly string[]): unknown {
  if (typeof value === 'string') return redactString(value, known);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, known));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, isSecretName(key) && item !== null ? REDACTED : redactValue(item, known)]));
  }
  return value;
}

// A name that may be a secret's (checked again with isSecretName), optionally quoted, `:` or
// `=`, then a quoted value or a bare one with an optional auth scheme. Only such names
// match, so a preceding `error: api_key=…` cannot swallow the pair as its own value.
const KEYED_VALUE = new RegExp(
  `(?<![\\w.-])(["']?)([\\w.-]*(?:${SECRET_WORDS}|secret|password)[\\w.-]*)\\1(\\s*[:=]\\s*)` +
    `("(?:[^"\\\\]|\\\\.)*"|'(?:[^'\\\\]|\\\\.)*'|(?:(?:Bearer|Basic|Token)\\s+)?[^\\s,;&"'<>(){}[\\]]+)`,
  'gi',
);

function redactString(text: string, known: readonly string[]): string {
  let out = text.replace(KEYED_VALUE, (match, quote: string, key: string, separator: string, value: string) => {
    if (!isSecretName(key) || value === 'null') return match;
    const scheme = /^(Bearer|Basic|Token)\s+/i.exec(value)?.[0] ?? '';
    const wrapped = value.startsWith('"') ? `"${REDACTED}"` : value.startsWith("'") ? `'${REDACTED}'` : `${scheme}${REDACTED}`;
    return `${quote}${key}${quote}${separator}${wrapped}`;
  });
  for (const secret of known) {
    // The value as written, inside a JSON string, and percent-encoded.
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])) {
      out = out.split(form).join(REDACTED);
    }
  }
  return out;
}
