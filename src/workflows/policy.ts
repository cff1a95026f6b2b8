// A conversation's policy belongs to the deployment: the worker that runs the conversation
// gives its configuration (CONVERSATION_IDLE_DELAY, …) as the policy, and a client may set a
// setting per conversation only where the deployment lists it (CONVERSATION_POLICY_OVERRIDES).
// Shared by the client (which checks an override's shape at the edge) and the worker (which
// alone knows what its deployment allows); plain functions, as this file also runs in the
// workflow sandbox.
import type { ConversationPolicy } from './state.js';
import { InvalidInputError, MESSAGE_MAX_BYTES_CEILING } from './validation.js';

/** What a client may ask to override, by the names an operator lists in CONVERSATION_POLICY_OVERRIDES. */
export const POLICY_SETTINGS = {
  idleDelay: { key: 'idleDelayMs', variable: 'CONVERSATION_IDLE_DELAY' },
  retention: { key: 'retentionMs', variable: 'CONVERSATION_RETENTION' },
  initTimeout: { key: 'initTimeoutMs', variable: 'RUNTIME_INIT_TIMEOUT' },
  closePolicy: { key: 'closePolicy', variable: 'CONVERSATION_CLOSE_POLICY' },
  maxMessageBytes: { key: 'maxMessageBytes', variable: 'MESSAGE_MAX_BYTES' },
} as const;

export type PolicySetting = keyof typeof POLICY_SETTINGS;
export const POLICY_SETTING_NAMES = Object.keys(POLICY_SETTINGS) as PolicySetting[];
type OverridableKey = (typeof POLICY_SETTINGS)[PolicySetting]['key'];

/** A client's per-conversation overrides of the deployment's policy (milliseconds, bytes). */
export type PolicyOverrides = Partial<Pick<ConversationPolicy, OverridableKey>>;

/**
 * Only the idle delay by default: how soon an idle runtime is paused trades a user's wait at
 * the next message against the runtime's cost, which an interactive client and a batch may
 * weigh differently. Retention, close policy, init timeout and message size govern what a
 * deployment keeps and accepts, so they stay the operator's unless listed.
 */
export const DEFAULT_OVERRIDABLE: readonly PolicySetting[] = ['idleDelay'];

/** The policy a worker gives the conversations it runs, and what a client may change of it. */
export interface DeploymentPolicy {
  readonly defaults: ConversationPolicy;
  readonly overridable: readonly PolicySetting[];
}

/** Longer than any sensible timer, and far below setTimeout's and Temporal's limits. */
const MAX_DURATION_MS = 365 * 86_400_000;

function settingOf(key: string): PolicySetting | undefined {
  return POLICY_SETTING_NAMES.find((name) => POLICY_SETTINGS[name].key === key);
}

/** Checks an override's shape (known settings, sane values); what is allowed is the worker's to say. */
export function validatePolicyOverrides(overrides: unknown): PolicyOverrides {
  if (overrides === undefined) return {};
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new InvalidInputError('policyOverrides', 'policy overrides must be an object such as { idleDelayMs: 60000 }');
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const setting = settingOf(key);
    if (!setting) {
      const known = POLICY_SETTING_NAMES.map((name) => POLICY_SETTINGS[name].key).join(', ');
      throw new InvalidInputError('policyOverrides', `${key} cannot be set per conversation: use ${known}`);
    }
    const problem = valueProblem(setting, value);
    if (problem) throw new InvalidInputError('policyOverrides', `invalid ${key} ${JSON.stringify(value)}: ${problem}`);
  }
  return overrides as PolicyOverrides;
}

function valueProblem(setting: PolicySetting, value: unknown): string | undefined {
  if (setting === 'closePolicy') return value === 'stop' || value === 'pause' ? undefined : "use 'stop' or 'pause'";
  const max = setting === 'maxMessageBytes' ? MESSAGE_MAX_BYTES_CEILING : MAX_DURATION_MS;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max) return undefined;
  return `use a whole number from 1 to ${max}${setting === 'maxMessageBytes' ? ' (bytes)' : ' (milliseconds)'}`;
}

export interface ResolvedPolicy {
  readonly policy: ConversationPolicy;
  /** Settings the client set that the deployment does not let it set; the start is refused. */
  readonly refused: readonly PolicySetting[];
  /** Why, when something was refused: names the settings, their variables and what is allowed. */
  readonly refusal?: string;
}

/** The deployment's policy with the allowed overrides on top; any other override is refused, never silently dropped. */
export function resolvePolicy(deployment: DeploymentPolicy, overrides: PolicyOverrides): ResolvedPolicy {
  const refused: PolicySetting[] = [];
  const policy: Record<string, unknown> = { ...deployment.defaults };
  for (const [key, value] of Object.entries(overrides)) {
    const setting = settingOf(key);
    if (value === undefined || !setting) continue;
    if (deployment.overridable.includes(setting)) policy[key] = value;
    else refused.push(setting);
  }
  if (refused.length === 0) return { policy: policy as unknown as ConversationPolicy, refused };
  return { policy: deployment.defaults, refused, refusal: refusalMessage(refused, deployment.overridable) };
}

function refusalMessage(refused: readonly PolicySetting[], overridable: readonly PolicySetting[]): string {
  const names = refused.map((setting) => `${POLICY_SETTINGS[setting].key} (${POLICY_SETTINGS[setting].variable})`).join(', ');
  const allowed = overridable.length ? `only ${overridable.map((setting) => POLICY_SETTINGS[setting].key).join(', ')}` : 'none';
  return (
    `this deployment does not let a client set ${names} per conversation: it may set ${allowed} ` +
    `(the workers' CONVERSATION_POLICY_OVERRIDES); start it without that override, and the deployment's value applies`
  );
}
