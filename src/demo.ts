// The short demonstration `npm start` runs: a conversation that starts, runs a command,
// goes idle and pauses, resumes on a new message and closes — printing every state
// change as the workflow reports it, with the link to its page in the Temporal UI.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConversationClient, ConversationInfo } from './client.js';
import { isMessageFrom, messageText } from './runtime-api/index.js';

export interface DemoOptions {
  readonly conversations: ConversationClient;
  /** Which agent answers: shell commands go to the shell agent as they are, to the OpenHands agent as a request. */
  readonly agent: 'shell' | 'openhands' | 'openhands-scripted';
  readonly uiUrl?: string;
  readonly namespace: string;
  readonly print: (line: string) => void;
}

export const DEMO_USER = 'demo-user';
/** The demo pauses after a few seconds so the whole lifecycle shows in under a minute. */
export const DEMO_IDLE_DELAY_MS = 3_000;

export async function runDemo(options: DemoOptions): Promise<void> {
  const { conversations, print } = options;
  const id = `demo-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`;
  print(`demo: conversation ${id} for user ${DEMO_USER}`);
  if (options.uiUrl) print(`demo: watch it at ${options.uiUrl}/namespaces/${options.namespace}/workflows/${id}`);
  const watcher = watch(conversations, id, print);
  const ask = askFor(options.agent);
  try {
    await conversations.start({ conversationId: id, userId: DEMO_USER, message: { text: ask('echo "hello from the sandbox: $(uname -sr)"') } });
    await conversations.waitUntilReady(id);
    // The real agent server takes 10-30 s to start the first time.
    await until(conversations, id, (info) => info.delivered === 1 && info.lastTurn !== undefined, 180_000);
    await printReplies(conversations, id, print);
    print(`demo: now idle — the runtime is paused after ${DEMO_IDLE_DELAY_MS / 1000} s without activity`);
    const paused = await until(conversations, id, (info) => info.status === 'STOPPED', 60_000);
    print(`demo: paused — status ${paused.status}, runtime ${paused.runtimeStatus}`);
    print('demo: sending a new message, which resumes the paused runtime');
    const second = await conversations.send(id, { text: ask('echo "resumed at $(date -u +%H:%M:%S)"; ls -a | head -3') });
    await until(conversations, id, (info) => info.lastTurn?.messageId === second?.messageId, 120_000);
    await printReplies(conversations, id, print);
    await conversations.close(id, 'demonstration finished');
    const result = await conversations.result(id);
    await sleep(200);
    print(`demo: closed — final status ${result.info.status}, ${result.info.delivered} messages delivered`);
    const listed = await conversations.list({ userId: DEMO_USER, limit: 5 });
    print(`demo: the Temporal UI lists ${listed.length} conversation(s) of ${DEMO_USER} (filter: ConversationUserId = '${DEMO_USER}')`);
  } finally {
    watcher.stop();
  }
}

/** The message that makes the agent run `command`. */
function askFor(agent: DemoOptions['agent']): (command: string) => string {
  if (agent === 'shell') return (command) => command;
  if (agent === 'openhands-scripted') return (command) => `run: ${command}`;
  return (command) => `Run this in the terminal and show me its output: ${command}`;
}

async function printReplies(conversations: ConversationClient, id: string, print: (line: string) => void): Promise<void> {
  const page = await conversations.events(id);
  const last = page.items.filter((event) => isMessageFrom(event, 'agent')).at(-1);
  const text = last ? messageText(last) : '';
  for (const line of text.trimEnd().split('\n')) print(`demo:   agent> ${line}`);
}

async function until(
  conversations: ConversationClient,
  id: string,
  predicate: (info: ConversationInfo) => boolean,
  timeoutMs = 30_000,
): Promise<ConversationInfo> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const info = await conversations.info(id);
    if (predicate(info)) return info;
    await sleep(100);
  }
  throw new Error(`demo: conversation ${id} did not reach the expected state within ${timeoutMs} ms`);
}

/** Prints a line whenever the status, runtime status or agent status changes. */
function watch(conversations: ConversationClient, id: string, print: (line: string) => void): { stop(): void } {
  let stopped = false;
  let last = '';
  void (async () => {
    while (!stopped) {
      try {
        const info = await conversations.info(id);
        const line = `status ${info.status}, runtime ${info.runtimeStatus}, agent ${info.executionStatus ?? '—'}, delivered ${info.delivered}`;
        if (line !== last) print(`demo: ${line}`);
        last = line;
      } catch {
        // Not started yet, or already closed: nothing to show.
      }
      await sleep(100);
    }
  })();
  return {
    stop: () => {
      stopped = true;
    },
  };
}
