// The conversations of one sandbox agent server and what the routes do with them.
// Routes stay thin: they parse, call one method here, and shape the reply.
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { conflict, notFound } from '../../http-server/errors.js';
import type { ConversationInfo, EventPage, ExecutionStatus } from '../../runtime-api/agent-server-schemas.js';
import { Conversation } from './conversations.js';
import type { MessageRequest, StartRequest } from './conversations.js';
import type { EventCount, EventSearch } from './event-log.js';
import { killAll, signalProcesses } from './process-tree.js';
import type { ProcessSelector } from './process-tree.js';
import { ShellAgent } from './shell-agent.js';
import type { LiveProcesses } from './shell-agent.js';

export interface ServiceSettings {
  readonly workspaceDir: string;
  readonly commandTimeoutMs: number;
  readonly outputCapBytes: number;
  readonly ownProcessGroup: boolean;
}

interface Entry {
  readonly conversation: Conversation;
  readonly agent: ShellAgent;
}

export class ConversationService {
  readonly #entries = new Map<string, Entry>();
  // Every process of this server carries this prefix, so close() can find orphans of
  // all conversations without touching another server's in the same machine or process.
  readonly #tagPrefix = `${randomUUID()}/`;
  readonly #startedAt = Date.now();
  #lastActivity = Date.now();
  #frozen = false;

  constructor(private readonly settings: ServiceSettings) {}

  /** Creates the conversation, or returns the existing one with `created: false`. */
  async start(request: StartRequest): Promise<{ created: boolean; info: ConversationInfo }> {
    const id = (request.conversation_id ?? randomUUID()).toLowerCase();
    const existing = this.#entries.get(id);
    if (existing) return { created: false, info: existing.conversation.info() };
    // As on the real server, a relative working_dir resolves against the server's own folder.
    const workspace = resolve(this.settings.workspaceDir, request.workspace?.working_dir ?? id);
    await mkdir(workspace, { recursive: true });
    // A concurrent create of the same id may have won while we waited for the folder.
    const winner = this.#entries.get(id);
    if (winner) return { created: false, info: winner.conversation.info() };
    const conversation = new Conversation(id, workspace, request);
    const agent = new ShellAgent(conversation, {
      ...this.settings,
      tagPrefix: `${this.#tagPrefix}${id}/`,
      frozen: () => this.#frozen,
    });
    this.#entries.set(id, { conversation, agent });
    // The real server always runs the initial message, whatever its `run` flag says.
    if (request.initial_message) {
      conversation.addMessage(request.initial_message);
      agent.run();
    }
    return { created: true, info: conversation.info() };
  }

  info(id: string): ConversationInfo {
    return this.#get(id).conversation.info();
  }

  /** The conversation, or undefined when there is none of that id (for the event socket). */
  find(id: string): Conversation | undefined {
    return this.#entries.get(id.toLowerCase())?.conversation;
  }

  /** Records a message; posting the same one twice records it twice, as on the real server. */
  sendMessage(id: string, message: MessageRequest): void {
    const { conversation, agent } = this.#get(id);
    conversation.addMessage(message);
    if (message.run) agent.run();
  }

  run(id: string): void {
    if (!this.#get(id).agent.run()) throw conflict('Conversation already running');
  }

  pause(id: string): void {
    this.#get(id).agent.pause();
  }

  /** The real server cancels the in-flight LLM call; a shell command is not cut short, so this is pause. */
  interrupt(id: string): void {
    this.pause(id);
  }

  countEvents(id: string, query: EventCount): number {
    return this.#get(id).conversation.log.count(query);
  }

  /** Forgets the conversation at once (later calls get 404), then kills its processes. The workspace stays. */
  async delete(id: string): Promise<void> {
    const entry = this.#get(id);
    this.#entries.delete(entry.conversation.id);
    entry.conversation.log.close();
    await entry.agent.stop();
  }

  searchEvents(id: string, query: EventSearch): EventPage {
    return this.#get(id).conversation.log.search(query);
  }

  count(status: ExecutionStatus | undefined): number {
    let count = 0;
    for (const { conversation } of this.#entries.values()) if (status === undefined || conversation.status === status) count += 1;
    return count;
  }

  signalCommands(signal: NodeJS.Signals): void {
    if (signal === 'SIGSTOP') this.#frozen = true;
    if (signal === 'SIGCONT') this.#frozen = false;
    const agents = [...this.#entries.values()].map(({ agent }) => agent);
    signalProcesses(this.#selector(agents.map((agent) => agent.liveProcesses())), signal);
    for (const agent of agents) agent.signalled(signal);
  }

  /** Kills every command (and every process any command left behind) and drops all conversations. */
  async closeAll(): Promise<void> {
    const agents = [...this.#entries.values()].map(({ agent }) => agent);
    this.#entries.clear();
    const selector = this.#selector(agents.map((agent) => agent.liveProcesses()));
    const runs = agents.map((agent) => agent.stop(false));
    await killAll(selector);
    await Promise.all(runs);
  }

  /** Covers all conversations, so one scan of /proc (~25 µs per process on the machine) does. */
  #selector(live: readonly LiveProcesses[]): ProcessSelector {
    return { tagPrefix: this.#tagPrefix, roots: live.flatMap((l) => l.roots), groups: live.flatMap((l) => l.groups) };
  }

  touch(): void {
    this.#lastActivity = Date.now();
  }

  /** `{uptime, idle_time}` in seconds; API calls, running commands and new events count as activity. */
  serverInfo(): { uptime: number; idle_time: number } {
    const now = Date.now();
    let lastActivity = this.#lastActivity;
    for (const { conversation, agent } of this.#entries.values()) {
      lastActivity = Math.max(lastActivity, agent.running ? now : conversation.updatedAtMs);
    }
    return { uptime: (now - this.#startedAt) / 1000, idle_time: (now - lastActivity) / 1000 };
  }

  #get(id: string): Entry {
    const entry = this.#entries.get(id.toLowerCase());
    if (!entry) throw notFound(`Conversation not found: ${id}`);
    return entry;
  }
}
