// ConversationClient: what application code uses to run conversations. Input is
// validated here, at the edge, before anything reaches Temporal. Starting is
// idempotent (conflict policy USE_EXISTING): two starts of one ID join one workflow.
// A closed conversation can be started again under the same ID (reuse ALLOW_DUPLICATE).
import { randomUUID } from 'node:crypto';
import { Client, Connection, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { ConversationClosedError, translateClientError } from './client-errors.js';
import { agentConversationIdFor } from './activities/agent.js';
import { AgentServerClient } from './runtime-api/index.js';
import type { AgentEvent, EventPage, RuntimeApiClient } from './runtime-api/index.js';
import type { ConversationResult, conversationWorkflow } from './workflows/conversation.js';
import { closeSignal, infoQuery, pauseSignal, resumeSignal, sendMessageSignal, sendMessageUpdate, waitUntilReadyUpdate } from './workflows/messages.js';
import type { MessageAck, SendMessageInput } from './workflows/messages.js';
import { conversationStatusKey, conversationUserIdKey, runtimeStatusKey } from './workflows/search-attributes.js';
import type { ConversationInfo, ConversationPolicy, ConversationStatus } from './workflows/state.js';
import { DEFAULT_MAX_MESSAGE_BYTES, validateConversationId, validateMessage, validateUserId } from './workflows/validation.js';

export * from './client-errors.js';
export type { ConversationInfo, ConversationPolicy, ConversationResult, ConversationStatus, MessageAck };

export interface ConversationClientOptions {
  readonly client: Client;
  readonly taskQueue: string;
  /** Policy for conversations this client starts (idle delay, retention, ...). */
  readonly policy?: Partial<ConversationPolicy>;
  /** Needed only for `events()`, which reads the agent server through the runtime. */
  readonly runtimeApi?: RuntimeApiClient;
}

export interface StartOptions {
  readonly conversationId: string;
  readonly userId: string;
  /** A first message, delivered with the start in one call. */
  readonly message?: { readonly text: string; readonly messageId?: string };
  /** 'update' (default) acknowledges the first message; 'signal' is fire-and-forget. */
  readonly mode?: 'update' | 'signal';
}

export interface ConversationSummary {
  readonly conversationId: string;
  readonly userId?: string;
  readonly status?: string;
  readonly runtimeStatus?: string;
  readonly workflowStatus: string;
  readonly startTime: Date;
}

export class ConversationClient {
  readonly #options: ConversationClientOptions;
  readonly #maxMessageBytes: number;

  constructor(options: ConversationClientOptions) {
    this.#options = options;
    this.#maxMessageBytes = options.policy?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  static async connect(options: Omit<ConversationClientOptions, 'client'> & { address: string; namespace?: string }): Promise<ConversationClient> {
    const connection = await Connection.connect({ address: options.address });
    return new ConversationClient({ ...options, client: new Client({ connection, namespace: options.namespace ?? 'default' }) });
  }

  get temporal(): Client {
    return this.#options.client;
  }

  /** A client sharing this one's connections whose new conversations get `policy` on top of this one's. */
  withPolicy(policy: Partial<ConversationPolicy>): ConversationClient {
    return new ConversationClient({ ...this.#options, policy: { ...this.#options.policy, ...policy } });
  }

  /** Starts the conversation, or joins it if it is already running; returns the first message's ack if one was sent. */
  async start(options: StartOptions): Promise<{ ack?: MessageAck }> {
    const conversationId = validateConversationId(options.conversationId);
    const userId = validateUserId(options.userId);
    const message = options.message ? this.#message(options.message) : undefined;
    const workflowOptions = {
      workflowId: conversationId,
      taskQueue: this.#options.taskQueue,
      args: [{ conversationId, userId, policy: this.#options.policy }] as Parameters<typeof conversationWorkflow>,
      workflowIdConflictPolicy: 'USE_EXISTING' as const,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
      typedSearchAttributes: [
        { key: conversationUserIdKey, value: userId },
        { key: conversationStatusKey, value: 'STARTING' },
        { key: runtimeStatusKey, value: 'none' },
      ],
      staticSummary: `conversation ${conversationId} (user ${userId})`,
    };
    try {
      if (!message) {
        await this.temporal.workflow.start<typeof conversationWorkflow>('conversationWorkflow', workflowOptions);
        return {};
      }
      if (options.mode === 'signal') {
        await this.temporal.workflow.signalWithStart<typeof conversationWorkflow, [SendMessageInput]>('conversationWorkflow', {
          ...workflowOptions,
          signal: sendMessageSignal,
          signalArgs: [message],
        });
        return {};
      }
      const startWorkflowOperation = new WithStartWorkflowOperation<typeof conversationWorkflow>('conversationWorkflow', workflowOptions);
      const ack = await this.temporal.workflow.executeUpdateWithStart(sendMessageUpdate, {
        args: [message],
        updateId: message.messageId,
        startWorkflowOperation,
      });
      return { ack };
    } catch (error) {
      return this.#translate(conversationId, error);
    }
  }

  /** Sends a user message. 'update' (default) returns once it is queued; 'signal' returns once Temporal has it. */
  async send(conversationId: string, message: { text: string; messageId?: string }, mode: 'update' | 'signal' = 'update'): Promise<MessageAck | undefined> {
    const handle = this.#handle(conversationId);
    const input = this.#message(message);
    try {
      if (mode === 'signal') {
        await handle.signal(sendMessageSignal, input);
        return undefined;
      }
      return await handle.executeUpdate(sendMessageUpdate, { args: [input], updateId: input.messageId });
    } catch (error) {
      return this.#translate(conversationId, error);
    }
  }

  async info(conversationId: string): Promise<ConversationInfo> {
    try {
      return await this.#handle(conversationId).query(infoQuery);
    } catch (error) {
      return this.#translate(conversationId, error);
    }
  }

  /** Resolves once provisioning has ended (RUNNING, or STOPPED after a pause); throws ProvisioningFailedError if it failed. */
  async waitUntilReady(conversationId: string): Promise<ConversationInfo> {
    try {
      return await this.#handle(conversationId).executeUpdate(waitUntilReadyUpdate);
    } catch (error) {
      // A failed provisioning ends the run, so the update may find no open run: the run's result says why.
      if (error instanceof WorkflowNotFoundError || error instanceof WorkflowUpdateFailedError) await this.result(conversationId);
      return this.#translate(conversationId, error);
    }
  }

  async pause(conversationId: string): Promise<void> {
    await this.#signal(conversationId, (handle) => handle.signal(pauseSignal));
  }

  async resume(conversationId: string): Promise<void> {
    await this.#signal(conversationId, (handle) => handle.signal(resumeSignal));
  }

  async close(conversationId: string, reason?: string): Promise<void> {
    await this.#signal(conversationId, (handle) => handle.signal(closeSignal, { reason }));
  }

  /** Waits for the conversation's run to end (closed or archived). */
  async result(conversationId: string): Promise<ConversationResult> {
    try {
      return await this.#handle(conversationId).result();
    } catch (error) {
      return this.#translate(conversationId, error);
    }
  }

  /** Conversations by user and status, from Temporal visibility (eventually consistent). */
  async list(filter: { userId?: string; status?: ConversationStatus; limit?: number } = {}): Promise<ConversationSummary[]> {
    const clauses = [`WorkflowType = 'conversationWorkflow'`];
    if (filter.userId) clauses.push(`${conversationUserIdKey.name} = '${validateUserId(filter.userId)}'`);
    if (filter.status) clauses.push(`${conversationStatusKey.name} = '${filter.status}'`);
    const summaries: ConversationSummary[] = [];
    for await (const execution of this.temporal.workflow.list({ query: clauses.join(' AND ') })) {
      summaries.push({
        conversationId: execution.workflowId,
        userId: execution.typedSearchAttributes.get(conversationUserIdKey),
        status: execution.typedSearchAttributes.get(conversationStatusKey),
        runtimeStatus: execution.typedSearchAttributes.get(runtimeStatusKey),
        workflowStatus: execution.status.name,
        startTime: execution.startTime,
      });
      if (summaries.length >= (filter.limit ?? 100)) break;
    }
    return summaries;
  }

  /** The agent server's events for the conversation, read through its runtime. */
  async events(conversationId: string, page: { pageId?: string; limit?: number } = {}): Promise<EventPage> {
    const runtimeApi = this.#options.runtimeApi;
    if (!runtimeApi) throw new Error('ConversationClient needs a runtimeApi option to read events');
    const info = await this.info(conversationId);
    const session = await runtimeApi.getSession(conversationId);
    if (!session || !info.runtimeUrl) throw new ConversationClosedError(conversationId);
    const agent = new AgentServerClient({ baseUrl: session.url, sessionApiKey: session.session_api_key ?? undefined });
    try {
      return await agent.searchEvents(agentConversationIdFor(conversationId), { page_id: page.pageId, limit: page.limit ?? 100 });
    } finally {
      await agent.close();
    }
  }

  /** Every event of the conversation, following the page cursor to the end. */
  async allEvents(conversationId: string): Promise<AgentEvent[]> {
    const events: AgentEvent[] = [];
    let pageId: string | undefined;
    do {
      const page = await this.events(conversationId, { pageId });
      events.push(...page.items);
      pageId = page.next_page_id ?? undefined;
    } while (pageId);
    return events;
  }

  #handle(conversationId: string): WorkflowHandle<typeof conversationWorkflow> {
    return this.temporal.workflow.getHandle<typeof conversationWorkflow>(validateConversationId(conversationId));
  }

  #message(message: { text: string; messageId?: string }): SendMessageInput {
    const input = { messageId: message.messageId ?? randomUUID(), text: message.text };
    validateMessage(input, this.#maxMessageBytes);
    return input;
  }

  async #signal(conversationId: string, send: (handle: WorkflowHandle) => Promise<void>): Promise<void> {
    const handle = this.#handle(conversationId);
    try {
      await send(handle);
    } catch (error) {
      await this.#translate(conversationId, error);
    }
  }

  /**
   * Temporal answers "not found" both for an ID it never saw and for a run that has
   * ended; telling them apart takes a look at the ID's latest run.
   */
  async #translate(conversationId: string, error: unknown): Promise<never> {
    if (error instanceof WorkflowNotFoundError) {
      const exists = await this.#handle(conversationId)
        .describe()
        .then(() => true, () => false);
      if (exists) throw new ConversationClosedError(conversationId, { cause: error });
    }
    return translateClientError(conversationId, error);
  }

}
