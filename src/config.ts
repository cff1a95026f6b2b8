// One schema over the environment. Every variable is described, so an invalid value
// stops the program at start with a message that names it, says what is wrong and
// shows the accepted form (see formatConfigError). Nothing here reads a file or
// opens a socket: loading config is pure.
import path from 'node:path';
import { z } from 'zod';
import { KEY_FORM, parseKeys } from './codec/keys.js';
import { DURATION_FORM, parseDuration } from './durations.js';
import { ISOLATION_MODES, NETWORK_POLICIES } from './local-runtime/isolation/jail.js';
import { DEFAULT_POLICY } from './workflows/state.js';
import { DEFAULT_OVERRIDABLE, POLICY_SETTING_NAMES } from './workflows/policy.js';
import type { DeploymentPolicy } from './workflows/policy.js';
import type { AdmissionConfig } from './activities/admission.js';
import { ADMISSION_POLICIES } from './workflows/admission/messages.js';
import { CONVERSATION_ID_PATTERN, DEFAULT_MAX_MESSAGE_BYTES, MESSAGE_MAX_BYTES_CEILING } from './workflows/validation.js';

const duration = (fallback: string, description: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration` });
      return ms ?? 0;
    })
    .describe(`${description} (${DURATION_FORM}; default ${fallback})`);

const port = (fallback: number, description: string) =>
  z.coerce.number().int().min(0).max(65535).default(fallback).describe(`${description} (0-65535; default ${fallback})`);

/** An optional string where empty means unset, optionally checked further by `refine`. */
const optionalText = (description: string, refine: z.ZodType<string, string> = z.string()) =>
  z
    .string()
    .optional()
    .transform((text) => (text === undefined || text.trim() === '' ? undefined : text.trim()))
    .pipe(refine.optional())
    .describe(description);

/** An optional duration, in ms once parsed; empty means unset. */
const optionalDuration = (description: string) =>
  optionalText(description)
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      const ms = parseDuration(text);
      if (ms === undefined) ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration` });
      return ms;
    })
    .describe(`${description} (${DURATION_FORM}; unset = the default of what reads it)`);

/** An optional JSON object (a schema may narrow its values); secrets are refused, since they belong in references. */
const jsonObject = <T extends Record<string, unknown>>(description: string, schema: z.ZodType<T> = z.record(z.string(), z.unknown()) as unknown as z.ZodType<T>) =>
  optionalText(description).transform((text, ctx): T | undefined => jsonValue(text, ctx, schema)).describe(description);

function jsonValue<T extends Record<string, unknown>>(text: string | undefined, ctx: z.RefinementCtx, schema: z.ZodType<T>): T | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not JSON' });
    return undefined;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'expected a JSON object' + (parsed.success ? '' : `: ${parsed.error.issues[0]?.message ?? ''}`) });
    return undefined;
  }
  if (/api_key|apikey|secret|token|password/i.test(Object.keys(parsed.data).join(' '))) {
    ctx.addIssue({ code: 'custom', message: 'holds a key-like field; pass keys by reference (LLM_API_KEY_ENV, LLM_API_KEY_FILE)' });
    return undefined;
  }
  return parsed.data;
}

/** Encryption keys, parsed (keys.ts); the problem is reported without the key text. */
const encryptionKeys = (description: string) =>
  optionalText(description)
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      try {
        return parseKeys(text, 'ENCRYPTION_KEYS');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return undefined;
      }
    })
    .describe(description);

/** Comma-separated http(s) origins (scheme://host[:port], no path). */
const origins = (description: string) =>
  optionalText(description).transform((text, ctx) => {
    if (text === undefined) return undefined;
    const list = text.split(',').map((origin) => origin.trim()).filter(Boolean);
    for (const origin of list) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(origin);
      } catch {
        // reported below
      }
      if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
        ctx.addIssue({ code: 'custom', message: `"${origin}" is not an origin (scheme://host[:port], no path or trailing slash)` });
      }
    }
    return list;
  })
    .describe(description);

/**
 * Sized so that 10,000 live idle conversations fit one worker in 1 GiB with room to spare:
 * a cached one costs about 338 KB of RSS, one outside the cache at most about 49 KB
 * (bench/scale.ts; the sums are in docs/performance.md).
 */
export const DEFAULT_WORKER_CACHE_SIZE = 500;

const count = (fallback: number, min: number, max: number, description: string) =>
  z.coerce.number().int().min(min).max(max).default(fallback).describe(`${description} (${min}-${max}; default ${fallback})`);

export const configSchema = z.object({
  TEMPORAL_ADDRESS: optionalText(
    'host:port of an existing Temporal frontend, e.g. localhost:7233; unset = start the embedded dev server',
    z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port'),
  ),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default').describe('Temporal namespace (default "default")'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('conversations').describe('task queue the worker polls (default "conversations")'),
  TEMPORAL_CLI_PATH: optionalText('path to a temporal CLI executable; unset = search PATH, then install a pinned one into .tools/'),
  TEMPORAL_TEST_SERVER_PATH: optionalText('path to a temporal-test-server executable (tests only); unset = search PATH, then .tools/'),
  WORKFLOW_BUNDLE_PATH: optionalText('prebuilt workflow bundle (from bundleWorkflowCode); unset = bundle src/workflows at worker start'),
  TEMPORAL_PORT: port(7233, 'gRPC port of the embedded Temporal dev server'),
  TEMPORAL_UI_PORT: port(8233, 'Web UI port of the embedded Temporal dev server'),
  TEMPORAL_START_TIMEOUT: duration('60s', 'how long to wait for the embedded Temporal server to answer'),
  DATA_DIR: z.string().min(1).default('data').describe('folder for the embedded server database, sandboxes and keys (default ./data)'),
  RUNTIME_API_URL: optionalText(
    'base URL of a Runtime API, e.g. http://localhost:8000 or a hosted OpenHands one; unset = start the local Runtime API',
    z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }),
  ),
  RUNTIME_API_KEY: optionalText('X-API-Key for the Runtime API; unset with the local Runtime API = generate one into the data folder'),
  RUNTIME_API_PORT: port(8000, 'port of the local Runtime API'),
  RUNTIME_API_PUBLIC_URL: optionalText(
    'base of the runtime URLs the local Runtime API hands out, when workers reach it by another name (e.g. http://runtime-api:8000)',
    z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }),
  ),
  RUNTIME_API_HOST: z.string().default('127.0.0.1').describe('interface the local Runtime API binds (default 127.0.0.1)'),
  RUNTIME_DRIVER: z.enum(['process', 'inproc']).default('process').describe('local Runtime API sandbox driver: process | inproc (default process; inproc runs the shell agent inside the server, so it needs RUNTIME_ISOLATION=off)'),
  RUNTIME_ISOLATION: z
    .enum(ISOLATION_MODES)
    .default('namespaces')
    .describe('how local sandboxes are walled in: namespaces (bubblewrap: own mount, PID, user, UTS namespaces; the workspace is all they can write) | off (no walls: trusted agent code only; warns at every start) (default namespaces)'),
  RUNTIME_NETWORK: z
    .enum(NETWORK_POLICIES)
    .default('host')
    .describe('network of an isolated local sandbox: host (the machine\'s network, loopback services included) | none (loopback only; the Runtime API reaches it through a socket file) (default host)'),
  RUNTIME_BWRAP_PATH: optionalText('bubblewrap (bwrap) executable for sandbox isolation; unset = search PATH, then (as root, at npm start/setup) install Debian\'s bubblewrap'),
  RUNTIME_AGENT: z
    .enum(['shell', 'openhands'])
    .default('shell')
    .describe('what local runtimes run: shell (built-in, no Python, ready in 0.3 s) | openhands (the real OpenHands agent server, installed into .tools/ the first time) (default shell)'),
  OPENHANDS_AGENT_SERVER_PATH: optionalText('a python with openhands-agent-server installed, or its agent-server script; unset = search PATH, then install the pinned one into .tools/'),
  OPENHANDS_MAX_CONCURRENT_RUNS: count(4, 1, 1000, 'OH_MAX_CONCURRENT_RUNS of each local OpenHands agent server: its conversation plus the sub-agents it delegates to'),
  RUNTIME_API_FAULTS: optionalText(
    'fault injection for the local Runtime API as JSON, e.g. {"startDelayMs":150} (tests and benchmarks; off when unset)',
  ),
  RUNTIME_IMAGE: z.string().min(1).default('local/agent-server:latest').describe('container image sent in POST /start (the local Runtime API runs the OpenHands agent server for one naming openhands, else RUNTIME_AGENT)'),
  RUNTIME_API_TIMEOUT: duration('180s', 'per-request timeout for Runtime API calls'),
  RUNTIME_INIT_TIMEOUT: duration('180s', 'how long a runtime may take to become alive before provisioning fails (the workers\' policy for the conversations they start; a client may override it only if CONVERSATION_POLICY_OVERRIDES lists initTimeout)'),
  AGENT_SERVER_TIMEOUT: duration('600s', 'headers/body timeout for agent-server calls (slow LLM turns run past 60 s)'),
  WORKER_CACHE_SIZE: count(
    DEFAULT_WORKER_CACHE_SIZE,
    0,
    1_000_000,
    'workflows each worker keeps in memory between their events (the sticky cache, about 0.34 MB of RSS each); an idle conversation outside it costs the worker far less and is replayed from its history at its next event; 0 = no cache (every event replays)',
  ),
  HTTP_CONNECTIONS: count(0, 0, 100_000, 'connections per origin for HTTP clients; 0 = unbounded'),
  CONVERSATION_IDLE_DELAY: duration('20m', 'pause a conversation\'s runtime after this long without activity (the workers\' policy; a client may override it per conversation while CONVERSATION_POLICY_OVERRIDES lists idleDelay, as it does by default)'),
  CONVERSATION_RETENTION: duration('7d', 'stop (archive) a paused conversation\'s runtime after this long (the workers\' policy; a client may override it only if CONVERSATION_POLICY_OVERRIDES lists retention)'),
  SHARED_RUNTIME_IDLE_DELAY: duration('5m', 'stop a shared runtime after it has had no conversation for this long'),
  BATCH_DIR: z.string().min(1).optional().describe('folder of the batch store (prompts and results of batch run), which the workers and the CLI must both see; unset = <DATA_DIR>/batches'),
  CONVERSATION_CLOSE_POLICY: z.enum(['stop', 'pause']).default('stop').describe('what close does to the runtime: stop | pause (default stop; the workers\' policy: a client may override it only if CONVERSATION_POLICY_OVERRIDES lists closePolicy)'),
  // Capped so that the largest message, with its envelope, still fits the 1 MiB body a runtime accepts (see validation.ts).
  MESSAGE_MAX_BYTES: count(
    DEFAULT_MAX_MESSAGE_BYTES,
    1,
    MESSAGE_MAX_BYTES_CEILING,
    'largest user message: bytes of its text as sent (UTF-8, JSON-encoded: a control character counts 6); the workers\' policy, enforced by the conversation (a client refuses only what exceeds the maximum below, or its own override); a client may override it only if CONVERSATION_POLICY_OVERRIDES lists maxMessageBytes',
  ),
  CONVERSATION_POLICY_OVERRIDES: z
    .string()
    .default(DEFAULT_OVERRIDABLE.join(','))
    .transform((text) => (text.trim() === 'none' ? [] : text.split(',').map((name) => name.trim()).filter(Boolean)))
    .pipe(z.array(z.enum(POLICY_SETTING_NAMES)))
    .describe(
      `the policy settings a client may set per conversation, read by the workers, comma-separated: ${POLICY_SETTING_NAMES.join(', ')}, or none; a start that sets any other is refused (PolicyOverrideError) (default ${DEFAULT_OVERRIDABLE.join(',')})`,
    ),
  LLM_MODEL: z.string().min(1).default('shell').describe('agent llm.model sent when creating the agent conversation, e.g. openai/gpt-4o or hosted_vllm/qwen (the built-in shell agent ignores it)'),
  LLM_BASE_URL: optionalText('LLM endpoint for a self-hosted model or gateway (vLLM, SGLang, LiteLLM proxy), e.g. http://127.0.0.1:8080/v1', z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' })),
  LLM_API_VERSION: optionalText('LLM api_version (Azure OpenAI and the like)'),
  LLM_TIMEOUT: optionalDuration('per-request LLM timeout the agent server applies'),
  LLM_NUM_RETRIES: z.coerce.number().int().min(0).max(100).optional().describe('LLM retries the agent server makes on a failed request (0-100; unset = its default)'),
  LLM_EXTRA: jsonObject('more LLM fields as a JSON object, e.g. {"temperature":0,"extra_headers":{"X-Team":"a"}}; no keys in it (use LLM_API_KEY_ENV/FILE)'),
  LLM_API_KEY: optionalText('LLM key, read by activities only (it never enters workflow history); prefer LLM_API_KEY_ENV or LLM_API_KEY_FILE'),
  LLM_API_KEY_ENV: optionalText('name of the worker\'s environment variable that holds the LLM key, read by activities at each use', z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a variable name')),
  LLM_API_KEY_FILE: optionalText('file that holds the LLM key, read by activities at each use (so a rotated key is picked up)'),
  AGENT_TOOLS: z
    .string()
    .default('terminal,file_editor,task_tracker')
    .transform((text) => text.split(',').map((name) => name.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected tool names')).min(1))
    .describe('tools of the OpenHands agent, comma-separated (default terminal,file_editor,task_tracker)'),
  AGENT_WORKSPACE_ROOT: optionalText(
    'absolute folder inside each runtime under which every conversation gets its own workspace (hosted runtimes: e.g. /workspace/project); unset = a folder beside the agent server\'s own',
    z.string().startsWith('/', 'expected an absolute path'),
  ),
  AGENT_MAX_ITERATIONS: z.coerce.number().int().min(1).max(100_000).optional().describe('most agent steps per run (1-100000; unset = the agent server\'s default, 500)'),
  RUNTIME_ENVIRONMENT: jsonObject('environment for every runtime, sent in POST /start, as a JSON object of strings, e.g. {"PIP_INDEX_URL":"…"}', z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string())),
  PAYLOAD_ENCRYPTION: z
    .enum(['on', 'off'])
    .default('on')
    .describe('encrypt every workflow payload (inputs, messages, results, query answers) with AES-256-GCM before it reaches Temporal: on | off (default on; off writes them in the clear)'),
  ENCRYPTION_KEYS: encryptionKeys(
    `payload encryption keys: ${KEY_FORM}; unset = ENCRYPTION_KEYS_FILE, else with the embedded server a key generated into the data folder (encryption.keys)`,
  ),
  ENCRYPTION_KEYS_FILE: optionalText('file holding the payload encryption keys, one id:base64 per line (the first encrypts, all decrypt; # starts a comment)'),
  CODEC_SERVER_HOST: z.string().min(1).default('127.0.0.1').describe('interface the codec server binds (default 127.0.0.1: only this machine\'s browsers and CLIs reach it)'),
  CODEC_SERVER_PORT: port(8234, 'port of the codec server that decrypts payloads for the Temporal UI and CLI'),
  CODEC_SERVER_TOKEN: optionalText(
    'bearer token the codec server requires (Authorization: Bearer …); unset = generate one into the data folder (codec-server.token)',
    // URL-safe characters only: the embedded UI is given the token as a path segment (codec/server.ts).
    z.string().min(16, 'expected at least 16 characters').regex(/^[A-Za-z0-9._~-]+$/, 'expected URL-safe token characters only (letters, digits, . _ ~ -)'),
  ),
  CODEC_SERVER_CORS_ORIGINS: origins(
    'browser origins allowed to call the codec server, comma-separated, e.g. https://temporal-ui.example.com; unset = the embedded Web UI (http://localhost:TEMPORAL_UI_PORT and http://127.0.0.1:TEMPORAL_UI_PORT)',
  ),
  ADMISSION_LIMIT: count(3, 0, 10_000, 'running conversations one user may have at once (each holds a running runtime); 0 = no limit'),
  ADMISSION_POLICY: z
    .enum(ADMISSION_POLICIES)
    .default('evict')
    .describe(
      "what a start or resume over the limit does: evict (pause the user's least recently active conversation with no turn running) | queue (wait, first in, first out) | reject (the start fails with ConversationLimitError) (default evict)",
    ),
  ADMISSION_USER_OVERRIDES: jsonObject(
    'per-user limit and policy over the two above, as a JSON object, e.g. {"alice":{"limit":10},"batch-bot":{"policy":"queue"}}',
    z.record(
      z.string().regex(CONVERSATION_ID_PATTERN, 'expected user IDs'),
      z.strictObject({ limit: z.number().int().min(0).max(10_000).optional(), policy: z.enum(ADMISSION_POLICIES).optional() }),
    ),
  ),
  DEMO: z.enum(['on', 'off']).default('on').describe('run the short demonstration conversation at `npm start`: on | off (default on)'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('log level: debug | info | warn | error (default info)'),
  LOG_FORMAT: z.enum(['text', 'json']).default('text').describe('log lines of the worker and servers: text | json (one JSON object a line, with conversationId, runId and runtimeId on lines about one conversation) (default text)'),
  METRICS_ADDRESS: optionalText(
    'serve Prometheus metrics (the SDK\'s and the product\'s) at http://ADDRESS/metrics: `host:port`, or a port alone for loopback, e.g. 9464; unset = no endpoint (`npm start` serves 127.0.0.1:9464 unless set to `off`)',
    z.string().regex(/^(off|:?\d{1,5}|[^\s:]+:\d{1,5}|\[[0-9a-fA-F:]+\]:\d{1,5})$/, 'a port, host:port, or off'),
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText('send OpenTelemetry traces over OTLP/HTTP to this collector, e.g. http://127.0.0.1:4318 (spans go to its /v1/traces); unset = no tracing', z.string().url()),
});

export type Config = z.output<typeof configSchema>;

/** The metrics endpoint asked for, if any (`off` is the way to refuse `npm start`'s default). */
export function metricsSetting(config: Pick<Config, 'METRICS_ADDRESS'>): string | undefined {
  return config.METRICS_ADDRESS === 'off' ? undefined : config.METRICS_ADDRESS;
}

/** Variables whose values are secrets: an error about one names it but never repeats its value. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['ENCRYPTION_KEYS', 'CODEC_SERVER_TOKEN', 'RUNTIME_API_KEY', 'LLM_API_KEY']);
export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment; throws ConfigError naming each bad variable and its accepted form. */
export function loadConfig(env: Env = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '(environment)');
        const field = configSchema.shape[name as keyof typeof configSchema.shape];
        const value = SECRET_VARIABLES.has(name) ? '(secret, not shown)' : JSON.stringify(env[name]);
        const accepted = field?.description ? `; accepted: ${field.description}` : '';
        return `${name}=${value}: ${issue.message}${accepted}`;
      }),
    );
  }
  if (parsed.data.RUNTIME_DRIVER === 'inproc' && parsed.data.RUNTIME_ISOLATION !== 'off') {
    throw new ConfigError([
      'RUNTIME_DRIVER="inproc": the inproc driver runs sandboxes inside the server, where no isolation is possible; set RUNTIME_ISOLATION=off to use it (trusted agent code only), or use the process driver',
    ]);
  }
  return { ...parsed.data, DATA_DIR: path.resolve(parsed.data.DATA_DIR) };
}

/** For programs: load the config or print the problems and exit with status 2. */
export function loadConfigOrExit(env: Env = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}

/** Lists every variable with its description, for the README and `--help`. */
export function describeConfig(): Array<{ name: string; description: string }> {
  return Object.entries(configSchema.shape).map(([name, field]) => ({ name, description: field.description ?? '' }));
}

/** The policy a worker gives every conversation it starts, and what a starting client may override of it. */
export function deploymentPolicyFrom(config: Config): DeploymentPolicy {
  return {
    defaults: {
      ...DEFAULT_POLICY,
      idleDelayMs: config.CONVERSATION_IDLE_DELAY,
      retentionMs: config.CONVERSATION_RETENTION,
      initTimeoutMs: config.RUNTIME_INIT_TIMEOUT,
      closePolicy: config.CONVERSATION_CLOSE_POLICY,
      maxMessageBytes: config.MESSAGE_MAX_BYTES,
    },
    overridable: config.CONVERSATION_POLICY_OVERRIDES,
  };
}

/** The admission limits configuration sets, enforced by the workers' admission activities. */
export function batchDirFrom(config: Config): string {
  return path.resolve(config.BATCH_DIR ?? path.join(config.DATA_DIR, 'batches'));
}

export function admissionFrom(config: Config): AdmissionConfig {
  return { defaults: { limit: config.ADMISSION_LIMIT, policy: config.ADMISSION_POLICY }, overrides: config.ADMISSION_USER_OVERRIDES };
}
