// One conversation as the sandbox agent server keeps it in memory: execution status,
// event log and the user commands not yet run. Like the real server it has no idempotency:
// a message posted twice is recorded twice.
import type { z } from 'zod';
import type {
  ConversationInfo,
  ExecutionStatus,
  sendMessageRequestSchema,
  startConversationRequestSchema,
} from '../../runtime-api/agent-server-schemas.js';
import { EventLog } from './event-log.js';

export type StartRequest = z.output<typeof startConversationRequestSchema>;
export type MessageRequest = z.output<typeof sendMessageRequestSchema>;

const TITLE_LENGTH = 60;

export class Conversation {
  readonly log = new EventLog();
  readonly #createdAt = new Date().toISOString();
  #updatedAt = this.#createdAt;
  #status: ExecutionStatus = 'idle';
  #title: string | null = null;
  readonly #pending: string[] = [];
  readonly #settings: Record<string, unknown>;

  constructor(
    readonly id: string,
    readonly workspace: string,
    request: StartRequest,
  ) {
    // Only what ConversationInfo reports is kept; `secrets` never is, LLM keys are masked.
    this.#settings = {
      agent: maskSecrets(request.agent),
      max_iterations: request.max_iterations ?? 500,
      stuck_detection: request.stuck_detection ?? true,
      confirmation_policy: request.confirmation_policy ?? { kind: 'NeverConfirm' },
      tags: request.tags ?? {},
    };
  }

  get status(): ExecutionStatus {
    return this.#status;
  }

  get updatedAtMs(): number {
    return Date.parse(this.#updatedAt);
  }

  get hasPendingCommands(): boolean {
    return this.#pending.length > 0;
  }

  setStatus(status: ExecutionStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.record('ConversationStateUpdateEvent', 'environment', { key: 'execution_status', value: status });
  }

  record(kind: string, source: string, fields: Record<string, unknown>): void {
    this.log.append(kind, source, fields);
    this.#updatedAt = new Date().toISOString();
  }

  /** Records a posted message; user messages are also queued as commands for the agent. */
  addMessage(message: MessageRequest): void {
    this.record('MessageEvent', 'user', { llm_message: { role: message.role, content: message.content } });
    if (message.role !== 'user') return;
    // Parts are joined by newlines so that two parts never fuse into one shell word.
    const text = message.content.map((part) => part.text).join('\n');
    this.#pending.push(text);
    this.#title ??= text.trim().split('\n', 1)[0]?.slice(0, TITLE_LENGTH) || null;
  }

  takeCommand(): string | undefined {
    return this.#pending.shift();
  }

  info(): ConversationInfo {
    return {
      id: this.id,
      ...this.#settings,
      workspace: { kind: 'LocalWorkspace', working_dir: this.workspace },
      execution_status: this.#status,
      title: this.#title,
      created_at: this.#createdAt,
      updated_at: this.#updatedAt,
    };
  }
}

const SECRET_KEY = /api_key|secret|token|password/i;

// Deeper structures are dropped rather than walked: a hostile body must not blow the stack.
const MAX_DEPTH = 16;

/** A deep copy with secret-looking string values replaced, as the real server masks SecretStr fields. */
function maskSecrets(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return null;
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      SECRET_KEY.test(key) && typeof item === 'string' ? '**********' : maskSecrets(item, depth + 1),
    ]),
  );
}
