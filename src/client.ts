// ConversationClient: what application code uses to run conversations. Input is
// validated here, at the edge, before anything reaches Temporal. Starting is
// idempotent (conflict policy USE_EXISTING): two starts of one ID join one workflow.
// A closed conversation can be started again under the same ID (reuse ALLOW_DUPLICATE).
// A conversation's policy is the deployment's (the workers' configuration): a client only
// asks to override settings per conversation, and the workers refuse what they do not allow.
import { randomUUID } from 'node:crypto';
import { Client, WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { DataConverter } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { ConversationClosedError, ConversationWorkerError, RuntimeApiUnavailableError, TemporalUnavailableError, translateClientError, unavailableReason, WORKFLOW_TASK_FAILING, workerReason } from './client-errors.js';
import { workflowTaskTrouble } from './temporal/workflow-task-trouble.js';
import type { ClientCall } from './client-errors.js';
import { agentConversationIdFor } from './activities/agent.js';
import { AgentServerClient, NetworkError, RequestTimeoutError, UnauthorizedError } from './runtime-api/index.js';
import type { AgentEvent, EventPage, RuntimeApiClient } from './runtime-api/index.js';
import type { ConversationResult, conversationWorkflow } from './workflows/conversation.js';
import { admissionStatusQuery, admissionWorkflowId } from './workflows/admission/messages.js';
import type { UserAdmissionStatus } from './workflows/admission/messages.js';
import { sharedSessionId, validateSharedRuntimeBinding } from './workflows/shared-runtime/messages.js';
import type { SharedRuntimeBinding } from './workflows/shared-runtime/messages.js';
import { admissionUpdate, closeSignal, infoQuery, pauseSignal, resumeSignal, sendMessageSignal, sendMessageUpdate, waitUntilReadyUpdate } from './workflows/messages.js';
import type { MessageAck, SendMessageInput } from './workflows/messages.js';
import { connectTemporal } from './temporal/connect.js';
import { readTranscript, transcriptPage, transcriptPath } from './transcripts.js';
import { conversationListQuery, conversationStatusKey, conversationUserIdKey, runtimeStatusKey } from './workflows/search-attributes.js';
import type { AdmissionView, ConversationInfo, ConversationPolicy, ConversationStatus } from './workflows/state.js';
import { validatePolicyOverrides } from './workflows/policy.js';
import type { PolicyOverrides } from './workflows/policy.js';
import {
  InvalidInputError,
  MESSAGE_MAX_BYTES_CEILING,
  validateConversationId,
  validateMessage,
  validateStatus,
  validateUserId,
} from './workflows/validation.js';

/** A message to send; `messageId` defaults to a fresh UUID (reuse it to retry safely). */
export interface OutgoingMessage {
  readonly text: string;
  readonly messageId?: string;
  /** `turn`: the update returns once the agent's turn on it ended (or it was refused). @default 'queued' */
  readonly waitFor?: 'queued' | 'turn';
}

export * from './client-errors.js';
export type { AdmissionView, ConversationInfo, ConversationPolicy, ConversationResult, ConversationStatus, MessageAck, PolicyOverrides, UserAdmissionStatus };

/** How long `start` and `admission` keep asking a busy server for the admission decision. */
const ADMISSION_WAIT_MS = 5 * 60_000;

export interface ConversationClientOptions {
  readonly client: Client;
  readonly taskQueue: string;
  /**
   * Settings of the deployment's policy to override in the conversations this client starts.
   * The workers refuse a start that sets one their CONVERSATION_POLICY_OVERRIDES does not
   * list (PolicyOverrideError). @default none: the deployment's policy
   */
  readonly policyOverrides?: PolicyOverrides;
  /** Needed only for `events()`, which reads the agent server through the runtime. */
  readonly runtimeApi?: RuntimeApiClient;
  /** Named in errors when Temporal cannot be reached. @default the client connection's address */
  readonly address?: string;
  /**
   * Where the workers keep transcripts of stopped runtimes (transcripts.ts), for `events()`
   * after close. Only a worker sharing this folder (`npm start`, one host) writes here.
   */
  readonly transcriptDir?: string;
}

export interface StartOptions {
  readonly conversationId: string;
  readonly userId: string;
  /** A first message, delivered with the start in one call. */
  readonly message?: { readonly text: string; readonly messageId?: string };
  /** 'update' (default) acknowledges the first message; 'signal' is fire-and-forget. */
  readonly mode?: 'update' | 'signal';
  /**
   * Wait until the user's admission has decided (a slot, a place in the queue, or no
   * limit), so a rejected start throws ConversationLimitError here. @default true
   */
  readonly waitForAdmission?: boolean;
  /** Overrides for this conversation, over the client's `policyOverrides`. */
  readonly policyOverrides?: PolicyOverrides;
  /**
   * Live on a named shared runtime (a pool of `runtimes`, least loaded first) instead of a
   * runtime of its own; such a conversation takes no admission slot. @default its own runtime
   */
  readonly runtime?: SharedRuntimeBinding;
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
  readonly #address: string;

  constructor(options: ConversationClientOptions) {
    this.#options = options;
    // Checked here so that a bad override fails where it is made, not at some later start.
    validatePolicyOverrides(options.policyOverrides);
    const connection = options.client.connection as { options?: { address?: unknown } };
    this.#address = options.address ?? String(connection.options?.address ?? 'the configured address');
  }

  /**
   * Connects, or throws TemporalUnavailableError naming the address (at once for a closed port).
   * `dataConverter` is required so that no caller writes payloads in the clear by omission:
   * take it from codec/data-converter.ts (`{}` only where encryption is off on purpose).
   */
  static async connect(
    options: Omit<ConversationClientOptions, 'client'> & { address: string; namespace?: string; connectTimeoutMs?: number; dataConverter: DataConverter },
  ): Promise<ConversationClient> {
    const connection = await connectTemporal({ address: options.address, connectTimeoutMs: options.connectTimeoutMs });
    return new ConversationClient({ ...options, client: new Client({ connection, namespace: options.namespace ?? 'default', dataConverter: options.dataConverter }) });
  }

  get temporal(): Client {
    return this.#options.client;
  }

  /** A client sharing this one's connections whose new conversations ask for `overrides` on top of this one's. */
  withPolicyOverrides(overrides: PolicyOverrides): ConversationClient {
    return new ConversationClient({ ...this.#options, policyOverrides: { ...this.#options.policyOverrides, ...overrides } });
  }

  /** Starts the conversation, or joins it if it is already running; returns the first message's ack if one was sent. */
  async start(options: StartOptions): Promise<{ ack?: MessageAck; admission?: AdmissionView }> {
    if (!options.message && options.waitForAdmission !== false) return { admission: await this.#startAdmitted(options) };
    const started = await this.#start(options);
    if (options.waitForAdmission === false) return started;
    return { ...started, admission: await this.admission(options.conversationId) };
  }

  /**
   * The start and the wait for admission in one call (update-with-start): the workflow
   * answers it in its first task, where a start and then an update took a round trip and
   * a workflow task more.
   */
  async #startAdmitted(options: StartOptions): Promise<AdmissionView> {
    const { conversationId, workflowOptions } = this.#startOptions(options);
    const startWorkflowOperation = new WithStartWorkflowOperation<typeof conversationWorkflow>('conversationWorkflow', workflowOptions);
    try {
      return await this.temporal.workflow.executeUpdateWithStart(admissionUpdate, { startWorkflowOperation });
    } catch (error) {
      // The run may have started all the same: admission() asks it again, and says why it failed.
      if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return this.admission(conversationId);
      if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) return this.#admissionFailed(conversationId, error);
      return this.#translate(conversationId, error, { ...this.#call(`start conversation ${conversationId}`), starts: true });
    }
  }

  #startOptions(options: StartOptions) {
    const conversationId = validateConversationId(options.conversationId);
    const userId = validateUserId(options.userId);
    const runtime = options.runtime === undefined ? undefined : validateSharedRuntimeBinding(options.runtime);
    // The shape is checked here, before anything reaches Temporal; what is allowed, by the workers.
    const overrides = validatePolicyOverrides({ ...this.#options.policyOverrides, ...validatePolicyOverrides(options.policyOverrides) });
    const policyOverrides = Object.keys(overrides).length > 0 ? overrides : undefined;
    const workflowOptions = {
      workflowId: conversationId,
      taskQueue: this.#options.taskQueue,
      args: [{ conversationId, userId, ...(policyOverrides && { policyOverrides }), ...(runtime && { runtime }) }] as Parameters<typeof conversationWorkflow>,
      workflowIdConflictPolicy: 'USE_EXISTING' as const,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
      typedSearchAttributes: [
        { key: conversationUserIdKey, value: userId },
        { key: conversationStatusKey, value: 'STARTING' },
        { key: runtimeStatusKey, value: 'none' },
      ],
      staticSummary: `conversation ${conversationId} (user ${userId})`,
    };
    // The first message goes to a conversation of this very policy: its override is a limit the edge may apply.
    return { conversationId, workflowOptions, maxMessageBytes: overrides.maxMessageBytes ?? MESSAGE_MAX_BYTES_CEILING };
  }

  async #start(options: StartOptions): Promise<{ ack?: MessageAck }> {
    const { conversationId, workflowOptions, maxMessageBytes } = this.#startOptions(options);
    const message = options.message ? this.#message(options.message, maxMessageBytes) : undefined;
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
      return this.#translate(conversationId, error, { ...this.#call(`start conversation ${conversationId}`, message?.messageId), starts: true });
    }
  }

  /** Sends a user message. 'update' (default) returns once it is queued; 'signal' returns once Temporal has it. */
  /** With `waitFor: 'turn'` (updates only), resolves once the agent's turn on the message ended; `ack.outcome` says how. */
  async send(conversationId: string, message: OutgoingMessage, mode: 'update' | 'signal' = 'update'): Promise<MessageAck | undefined> {
    const handle = this.#handle(conversationId);
    const input = this.#message(message);
    try {
      if (mode === 'signal') {
        await handle.signal(sendMessageSignal, input);
        return undefined;
      }
      return await handle.executeUpdate(sendMessageUpdate, { args: [input], updateId: input.messageId });
    } catch (error) {
      return this.#translate(conversationId, error, this.#call(`send message ${input.messageId} to conversation ${conversationId}`, input.messageId));
    }
  }

  async info(conversationId: string): Promise<ConversationInfo> {
    let info: ConversationInfo;
    try {
      info = await this.#handle(conversationId).query(infoQuery);
    } catch (error) {
      return this.#translate(conversationId, error, this.#read(`read conversation ${conversationId}`));
    }
    if (info.admission?.state !== 'waiting') return info;
    // The conversation knows its place as it was when it joined the queue; the user's admission workflow knows it now.
    const now = (await this.userAdmission(info.userId).catch(() => undefined))?.queue.find((w) => w.conversationId === conversationId);
    return now ? { ...info, admission: { ...info.admission, position: now.position } } : info;
  }

  /** How the conversation's admission was decided; throws ConversationLimitError if its start was rejected. */
  async admission(conversationId: string): Promise<AdmissionView> {
    const deadline = Date.now() + ADMISSION_WAIT_MS;
    for (;;) {
      try {
        return await this.#handle(conversationId).executeUpdate(admissionUpdate);
      } catch (error) {
        // A busy server can time the call out before the decision is made; asking again is safe (it only reads).
        if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError && Date.now() < deadline) continue;
        return await this.#admissionFailed(conversationId, error);
      }
    }
  }

  async #admissionFailed(conversationId: string, error: unknown): Promise<never> {
    // A rejected start ends the run at once, so the update may find no open run: its result says why.
    if (error instanceof WorkflowNotFoundError) await this.result(conversationId);
    return this.#translate(conversationId, error, this.#read(`wait for the admission of conversation ${conversationId}`));
  }

  /** A user's limit, the slots held and the queue; undefined when the user has no admission workflow (never limited). */
  async userAdmission(userId: string): Promise<UserAdmissionStatus | undefined> {
    const workflowId = admissionWorkflowId(this.#options.taskQueue, validateUserId(userId));
    try {
      return await this.temporal.workflow.getHandle(workflowId).query(admissionStatusQuery);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      const call = this.#read(`read the admission of user ${userId}`);
      const noWorker = await this.#noWorkerReason(workflowId, error);
      if (noWorker) throw new ConversationWorkerError(workflowId, call, noWorker, { cause: error });
      const reason = unavailableReason(error);
      if (reason) throw new TemporalUnavailableError(call, reason, { cause: error });
      throw error;
    }
  }

  /** Resolves once provisioning has ended (RUNNING, or STOPPED after a pause); throws ProvisioningFailedError if it failed. */
  async waitUntilReady(conversationId: string): Promise<ConversationInfo> {
    try {
      return await this.#handle(conversationId).executeUpdate(waitUntilReadyUpdate);
    } catch (error) {
      // A failed provisioning ends the run, so the update may find no open run: the run's result says why.
      if (error instanceof WorkflowNotFoundError || error instanceof WorkflowUpdateFailedError) await this.result(conversationId);
      return this.#translate(conversationId, error, this.#read(`wait for conversation ${conversationId}`));
    }
  }

  async pause(conversationId: string): Promise<void> {
    await this.#signal(conversationId, 'pause', (handle) => handle.signal(pauseSignal));
  }

  async resume(conversationId: string): Promise<void> {
    await this.#signal(conversationId, 'resume', (handle) => handle.signal(resumeSignal));
  }

  async close(conversationId: string, reason?: string): Promise<void> {
    await this.#signal(conversationId, 'close', (handle) => handle.signal(closeSignal, { reason }));
  }

  /** Waits for the conversation's run to end (closed or archived). */
  async result(conversationId: string): Promise<ConversationResult> {
    try {
      return await this.#handle(conversationId).result();
    } catch (error) {
      return this.#translate(conversationId, error, this.#read(`wait for conversation ${conversationId} to end`));
    }
  }

  /**
   * Conversations by user and status, from Temporal visibility (eventually consistent).
   * The status may be in any letter case (`running`); an unknown one is refused with the valid values.
   */
  async list(filter: { userId?: string; status?: ConversationStatus | Lowercase<ConversationStatus>; limit?: number } = {}): Promise<ConversationSummary[]> {
    const query = conversationListQuery({
      userId: filter.userId === undefined ? undefined : validateUserId(filter.userId),
      status: filter.status === undefined ? undefined : validateStatus(filter.status),
    });
    const limit = filter.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidInputError('limit', `invalid limit ${JSON.stringify(filter.limit)}: use a whole number from 1`);
    try {
      return await this.#list(query, limit);
    } catch (error) {
      const reason = unavailableReason(error);
      if (reason) throw new TemporalUnavailableError(this.#read('list conversations'), reason, { cause: error });
      throw error;
    }
  }

  async #list(query: string, limit: number): Promise<ConversationSummary[]> {
    const summaries: ConversationSummary[] = [];
    for await (const execution of this.temporal.workflow.list({ query })) {
      summaries.push({
        conversationId: execution.workflowId,
        userId: execution.typedSearchAttributes.get(conversationUserIdKey),
        status: execution.typedSearchAttributes.get(conversationStatusKey),
        runtimeStatus: execution.typedSearchAttributes.get(runtimeStatusKey),
        workflowStatus: execution.status.name,
        startTime: execution.startTime,
      });
      if (summaries.length >= limit) break;
    }
    return summaries;
  }

  /** The agent server's events for the conversation, read through its runtime. */
  async events(conversationId: string, page: { pageId?: string; limit?: number } = {}): Promise<EventPage> {
    const runtimeApi = this.#options.runtimeApi;
    if (!runtimeApi) throw new Error('ConversationClient needs a runtimeApi option to read events');
    const info = await this.info(conversationId);
    // A conversation on a shared runtime lives in that runtime's session.
    const sessionId = info.sharedRuntime ? sharedSessionId(info.sharedRuntime) : conversationId;
    const session = info.status === 'ARCHIVED' ? undefined : await this.#session(runtimeApi, sessionId);
    if (!session || session.status === 'stopped' || !info.runtimeUrl) return this.#keptEvents(conversationId, page);
    // A paused runtime cannot be read; the transcript was kept when it was paused.
    const keptAtPause = session.status === 'paused' && this.#options.transcriptDir ? await readTranscript(this.#options.transcriptDir, conversationId, this.#transcriptCodecs()) : undefined;
    if (keptAtPause) return transcriptPage(keptAtPause, page);
    const agent = new AgentServerClient({ baseUrl: session.url, sessionApiKey: session.session_api_key ?? undefined });
    try {
      return await agent.searchEvents(agentConversationIdFor(conversationId), { page_id: page.pageId, limit: page.limit ?? 100 });
    } finally {
      await agent.close();
    }
  }

  async #session(runtimeApi: RuntimeApiClient, conversationId: string) {
    try {
      return await runtimeApi.getSession(conversationId);
    } catch (error) {
      const unauthorized = error instanceof UnauthorizedError;
      if (!unauthorized && !(error instanceof NetworkError || error instanceof RequestTimeoutError)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new RuntimeApiUnavailableError(runtimeApi.baseUrl, `read the events of conversation ${conversationId}`, reason, { cause: error, unauthorized });
    }
  }

  /** The transcript kept when the runtime was stopped, or ConversationClosedError saying where transcripts are kept. */
  async #keptEvents(conversationId: string, page: { pageId?: string; limit?: number }): Promise<EventPage> {
    const dir = this.#options.transcriptDir;
    const kept = dir ? await readTranscript(dir, conversationId, this.#transcriptCodecs()) : undefined;
    if (kept) return transcriptPage(kept, page);
    const where = dir
      ? `no transcript of it in ${transcriptPath(dir, conversationId)}: the worker that stopped it keeps it in its own DATA_DIR/transcripts`
      : 'the workers keep transcripts in their DATA_DIR/transcripts (give this client transcriptDir to read them)';
    throw new ConversationClosedError(conversationId, { detail: `its runtime is stopped; ${where}` });
  }

  /** The codecs of this client's data converter open a transcript the workers sealed with the same keys. */
  #transcriptCodecs() {
    return this.temporal.options.loadedDataConverter.payloadCodecs;
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

  /**
   * The edge refuses only what no conversation would accept (over the wire's ceiling), or a
   * first message over its start's own override. The limit of a conversation (the
   * deployment's, or an override it was started with) only the workers know: their validator
   * refuses a message over it before it reaches history, naming the limit.
   */
  #message(message: OutgoingMessage, maxBytes = MESSAGE_MAX_BYTES_CEILING): SendMessageInput {
    const input = { messageId: message.messageId ?? randomUUID(), text: message.text, ...(message.waitFor && { waitFor: message.waitFor }) };
    validateMessage(input, maxBytes);
    return input;
  }

  async #signal(conversationId: string, action: string, send: (handle: WorkflowHandle) => Promise<void>): Promise<void> {
    const handle = this.#handle(conversationId);
    try {
      await send(handle);
    } catch (error) {
      await this.#translate(conversationId, error, this.#call(`${action} conversation ${conversationId}`));
    }
  }

  /** A call that asks for a change; with `messageId` it carried a user message. */
  #call(action: string, messageId?: string): ClientCall {
    return { address: this.#address, action, messageId, change: true };
  }

  #read(action: string): ClientCall {
    return { address: this.#address, action };
  }

  /** Why no worker runs the workflow, when that is what `error` says: read from its history when its task fails, for a caller without the worker's log. */
  async #noWorkerReason(workflowId: string, error: unknown): Promise<string | undefined> {
    const reason = workerReason(error);
    return reason === WORKFLOW_TASK_FAILING ? ((await workflowTaskTrouble(this.temporal, workflowId)) ?? reason) : reason;
  }

  /**
   * Temporal answers "not found" both for an ID it never saw and for a run that has
   * ended; telling them apart takes a look at the ID's latest run.
   */
  async #translate(conversationId: string, error: unknown, call: ClientCall): Promise<never> {
    const noWorker = await this.#noWorkerReason(conversationId, error);
    if (noWorker) throw new ConversationWorkerError(conversationId, call, noWorker, { cause: error });
    if (error instanceof WorkflowNotFoundError) {
      const exists = await this.#handle(conversationId)
        .describe()
        .then(() => true, () => false);
      if (exists) throw new ConversationClosedError(conversationId, { cause: error });
    }
    return translateClientError(conversationId, error, call);
  }

}
