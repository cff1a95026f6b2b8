// `--policy idleDelay=30s,closePolicy=pause`: a start's per-conversation overrides of the
// deployment's policy, by the names CONVERSATION_POLICY_OVERRIDES lists, durations as
// everywhere at the edges. The CLI sends nothing else of its environment's policy: the
// workers' configuration is the conversation's policy.
import { DURATION_FORM, parseDuration } from '../durations.js';
import { POLICY_SETTINGS, POLICY_SETTING_NAMES, validatePolicyOverrides } from '../workflows/policy.js';
import type { PolicyOverrides, PolicySetting } from '../workflows/policy.js';
import { InvalidInputError } from '../workflows/validation.js';

export const POLICY_FLAG_FORM = `name=value pairs, comma-separated: ${POLICY_SETTING_NAMES.join(', ')} (durations as ${DURATION_FORM}; closePolicy stop or pause; maxMessageBytes in bytes)`;

export function parsePolicyFlag(text: string | undefined): PolicyOverrides | undefined {
  if (text === undefined) return undefined;
  const overrides: Record<string, unknown> = {};
  for (const pair of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const [name = '', value = ''] = pair.split('=', 2).map((part) => part.trim());
    if (!(POLICY_SETTING_NAMES as readonly string[]).includes(name)) {
      throw new InvalidInputError('policy', `--policy: unknown setting "${name}": use ${POLICY_FLAG_FORM}`);
    }
    const setting = name as PolicySetting;
    overrides[POLICY_SETTINGS[setting].key] = valueOf(setting, value);
  }
  return validatePolicyOverrides(overrides);
}

function valueOf(setting: PolicySetting, value: string): unknown {
  if (setting === 'closePolicy') return value;
  if (setting === 'maxMessageBytes') return /^\d+$/.test(value) ? Number(value) : value;
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidInputError('policy', `--policy: ${setting}="${value}" is not a duration (${DURATION_FORM})`);
  return ms;
}
