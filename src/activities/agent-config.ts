// What the worker tells each runtime's agent server when it creates the agent
// conversation: the LLM (model, endpoint, key), the tools, the workspace folder and the
// iteration limit. The LLM key travels by reference (an environment variable's name or a
// file's path) and is read here, in the worker, at each use: so it never enters workflow
// history, and a rotated key file is picked up without a restart.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { registerSecret } from '../runtime-api/index.js';
import type { StartConversationRequest } from '../runtime-api/index.js';

/** Where the LLM key is: at most one of these; none means "no key" (a local model, say). */
export interface SecretRef {
  /** The key itself, from the worker's own configuration (LLM_API_KEY). */
  readonly value?: string;
  /** The name of an environment variable of the worker process that holds the key. */
  readonly env?: string;
  /** A file holding the key (surrounding white space is ignored). */
  readonly file?: string;
}

export interface AgentSettings {
  readonly model: string;
  readonly baseUrl?: string;
  readonly apiVersion?: string;
  /** Per LLM request, in seconds. */
  readonly timeoutSeconds?: number;
  readonly numRetries?: number;
  /** More LLM fields, passed as they are (e.g. temperature, extra_headers, litellm_extra_body). */
  readonly extra?: Readonly<Record<string, unknown>>;
  readonly apiKey?: SecretRef;
  /** Tool names, e.g. terminal, file_editor, task_tracker. */
  readonly tools: readonly string[];
  /** Absolute folder inside the runtime under which each conversation gets its own; unset = a folder relative to the agent server's own. */
  readonly workspaceRoot?: string;
  readonly maxIterations?: number;
}

export const DEFAULT_AGENT_TOOLS = ['terminal', 'file_editor', 'task_tracker'] as const;

export class SecretResolutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretResolutionError';
  }
}

/** Reads a secret reference. Errors name the reference, never a value. */
export async function resolveSecret(ref: SecretRef | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const value = await readSecret(ref, env);
  // Known from now on to every HTTP error's scrubber, so no answer can echo it into history.
  if (value !== undefined) registerSecret(value);
  return value;
}

async function readSecret(ref: SecretRef | undefined, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (!ref) return undefined;
  if (ref.value !== undefined) return ref.value;
  if (ref.env !== undefined) {
    const value = env[ref.env]?.trim();
    if (!value) throw new SecretResolutionError(`the LLM key variable ${ref.env} is not set in the worker's environment`);
    return value;
  }
  if (ref.file !== undefined) {
    try {
      const value = (await readFile(ref.file, 'utf8')).trim();
      if (value) return value;
    } catch (error) {
      throw new SecretResolutionError(`cannot read the LLM key file ${ref.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    throw new SecretResolutionError(`the LLM key file ${ref.file} is empty`);
  }
  return undefined;
}

/** Builds the POST /api/conversations body for one conversation. */
export async function startConversationRequest(settings: AgentSettings, agentConversationId: string): Promise<StartConversationRequest> {
  const apiKey = await resolveSecret(settings.apiKey);
  const llm = {
    ...settings.extra,
    model: settings.model,
    ...(settings.baseUrl !== undefined && { base_url: settings.baseUrl }),
    ...(settings.apiVersion !== undefined && { api_version: settings.apiVersion }),
    ...(settings.timeoutSeconds !== undefined && { timeout: settings.timeoutSeconds }),
    ...(settings.numRetries !== undefined && { num_retries: settings.numRetries }),
    api_key: apiKey ?? null,
    usage_id: 'agent',
  };
  return {
    agent: { kind: 'Agent', llm, tools: settings.tools.map((name) => ({ name })) },
    // One folder per conversation. A relative path resolves against the agent server's own
    // folder (each local runtime has its own); hosted runtimes want an absolute one.
    workspace: { kind: 'LocalWorkspace', working_dir: settings.workspaceRoot ? path.posix.join(settings.workspaceRoot, agentConversationId) : agentConversationId },
    conversation_id: agentConversationId,
    ...(settings.maxIterations !== undefined && { max_iterations: settings.maxIterations }),
  };
}
