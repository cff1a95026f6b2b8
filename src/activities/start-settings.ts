// What a new conversation needs from its worker's configuration before it provisions: the
// deployment's policy, with the starting client's overrides applied where the deployment
// allows them, and whether its user has an admission limit. A local activity: it only reads
// settings, so it runs inside the workflow's first task, and its answer is recorded in
// history (a marker), so a replay, on whatever worker, gets the same policy. It replaces the
// admission check that used to be the first step there, so the start costs no more.
import { admissionSettingsFor } from './admission.js';
import type { ActivityDeps } from './deps.js';
import { resolvePolicy, validatePolicyOverrides } from '../workflows/policy.js';
import type { PolicyOverrides, ResolvedPolicy } from '../workflows/policy.js';
import { InvalidInputError } from '../workflows/validation.js';

export interface StartSettingsInput {
  readonly userId: string;
  readonly overrides?: PolicyOverrides;
}

export interface StartSettings extends ResolvedPolicy {
  readonly admissionLimited: boolean;
}

export function startSettingsActivities(deps: ActivityDeps) {
  return {
    async startSettings(input: StartSettingsInput): Promise<StartSettings> {
      const admissionLimited = admissionSettingsFor(deps.admission, input.userId).limit > 0;
      let overrides: PolicyOverrides;
      try {
        // The client checked the shape at the edge; a caller that bypassed it is refused as clearly.
        overrides = validatePolicyOverrides(input.overrides);
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        return { admissionLimited, policy: deps.policy.defaults, refused: [], refusal: error.message };
      }
      return { admissionLimited, ...resolvePolicy(deps.policy, overrides) };
    },
  };
}
