// The scripted LLM for tests: the product's deterministic fake (src/llm/scripted-llm.ts)
// plus the agent `llm` settings that point an OpenHands agent at it.
import { SCRIPTED_MODEL } from '../../src/llm/scripted-llm.js';
import type { ScriptedLlm, ScriptedLlmRequest } from '../../src/llm/scripted-llm.js';

export { SCRIPTED_MODEL, startScriptedLlm } from '../../src/llm/scripted-llm.js';
export type { ScriptedLlm, ScriptedLlmOptions, ScriptedLlmRequest } from '../../src/llm/scripted-llm.js';

export const SCRIPTED_API_KEY = 'test-key';

/**
 * The `agent.llm` object for POST /api/conversations. `num_retries: 0` because the SDK's
 * default (5 retries, waits of 8 s growing to 64 s) turns one scripted `error` into minutes.
 */
export function scriptedLlmSettings(llm: ScriptedLlm, overrides: Record<string, unknown> = {}) {
  return { model: SCRIPTED_MODEL, base_url: llm.baseUrl, api_key: SCRIPTED_API_KEY, num_retries: 0, ...overrides };
}

/** The agent's own completion calls, without the auto-title call and stray requests. */
export const chatRequests = (llm: ScriptedLlm): ScriptedLlmRequest[] => llm.requests.filter((r) => r.kind === 'chat');
