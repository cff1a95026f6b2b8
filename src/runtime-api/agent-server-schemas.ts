// The agent-server (data plane) contract: the subset of the OpenHands agent-server REST
// API the conversation manager uses (openhands-contract.md §3). Shared by
// AgentServerClient and the local sandbox agent server.
import { z } from 'zod';

export const executionStatusSchema = z.enum([
  'idle',
  'running',
  'paused',
  'waiting_for_confirmation',
  'finished',
  'error',
  'stuck',
  'deleting',
]);
export type ExecutionStatus = z.infer<typeof executionStatusSchema>;

/**
 * A run has stopped in these states (the real server's terminal ones, plus `paused`,
 * where /pause or /interrupt leaves it). `idle` is not among them: right after a message
 * is posted with `run: true` the server can still report `idle` (or the previous turn's
 * `finished`), so a status alone never proves that this message's turn has ended.
 */
export const RUN_STOPPED_STATUSES: readonly ExecutionStatus[] = ['finished', 'error', 'stuck', 'paused'];

export const textContentSchema = z.object({ type: z.literal('text'), text: z.string() });

/** A user message as posted to `/api/conversations/{id}/events`. */
export const sendMessageRequestSchema = z.object({
  role: z.enum(['user', 'system', 'assistant']).default('user'),
  content: z.array(textContentSchema).min(1).max(64),
  run: z.boolean().default(false),
});
export type SendMessageRequest = z.input<typeof sendMessageRequestSchema>;

export const agentSpecSchema = z
  .object({
    kind: z.string().default('Agent'),
    llm: z.object({ model: z.string(), api_key: z.string().nullish(), usage_id: z.string().optional() }).passthrough(),
    tools: z.array(z.object({ name: z.string() }).passthrough()).optional(),
  })
  .passthrough();
export type AgentSpec = z.input<typeof agentSpecSchema>;

export const startConversationRequestSchema = z
  .object({
    agent: agentSpecSchema,
    // Required, with no default, on the real server (422 without it).
    workspace: z.object({ kind: z.string().default('LocalWorkspace'), working_dir: z.string().min(1) }).passthrough(),
    conversation_id: z.string().uuid().optional(),
    initial_message: sendMessageRequestSchema.optional(),
    max_iterations: z.number().int().positive().optional(),
    stuck_detection: z.boolean().optional(),
    confirmation_policy: z.object({ kind: z.string() }).passthrough().optional(),
    secrets: z.record(z.string(), z.unknown()).optional(),
    tags: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();
export type StartConversationRequest = z.input<typeof startConversationRequestSchema>;

export const conversationInfoSchema = z
  .object({
    id: z.string(),
    execution_status: z.union([executionStatusSchema, z.string()]),
    title: z.string().nullish(),
    created_at: z.string().nullish(),
    updated_at: z.string().nullish(),
  })
  .passthrough();
export type ConversationInfo = z.infer<typeof conversationInfoSchema>;

export const successResponseSchema = z.object({ success: z.boolean() }).passthrough();

/** Events carry a `kind` discriminator; we read a few fields and keep the rest. */
export const eventSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    timestamp: z.string(),
    source: z.string().optional(),
  })
  .passthrough();
export type AgentEvent = z.infer<typeof eventSchema>;

export const eventPageSchema = z.object({ items: z.array(eventSchema), next_page_id: z.string().nullable() });
export type EventPage = z.infer<typeof eventPageSchema>;

export const eventSearchQuerySchema = z.object({
  page_id: z.string().max(128).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(100),
  kind: z.string().max(64).optional(),
  source: z.string().max(64).optional(),
  /** A timestamp as the server writes it in events (the real server: naive server-local time); passed back verbatim. */
  timestamp__gte: z.string().max(64).optional(),
  sort_order: z.enum(['TIMESTAMP', 'TIMESTAMP_DESC']).default('TIMESTAMP'),
});
export type EventSearchQuery = z.input<typeof eventSearchQuerySchema>;

export const countResponseSchema = z.number().int().nonnegative();

export const eventCountQuerySchema = eventSearchQuerySchema.pick({ kind: true, source: true, timestamp__gte: true });
export type EventCountQuery = z.input<typeof eventCountQuerySchema>;

export const healthResponseSchema = z.object({ status: z.string() }).passthrough();
/** GET /server_info: how long the server process has been up, in seconds. */
export const serverInfoResponseSchema = z.object({ uptime: z.number() }).passthrough();
