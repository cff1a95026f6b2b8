// `conversations <command>`: the operator's command line over ConversationClient,
// against the embedded stack of a running `npm start` (or whatever TEMPORAL_ADDRESS and
// RUNTIME_API_URL name). `events` prints a transcript, other commands JSON with their
// status words explained; `--json` gives the raw answers. Exits 1 with a one-line error.
import { parseArgs } from 'node:util';
import { ConversationClient } from './client.js';
import { dataConverterWith, payloadCodecFrom } from './codec/data-converter.js';
import { BatchStore } from './batch/store.js';
import { runBatchCommand } from './batch/cli.js';
import { batchDirFrom, loadConfigOrExit } from './config.js';
import { RuntimeApiClient } from './runtime-api/index.js';
import { runtimeEndpointFor } from './runtime-endpoint.js';
import { transcriptDirOf } from './transcripts.js';
import { validateStatus } from './workflows/validation.js';
import { sendAndFollow } from './cli/follow.js';
import { parsePolicyFlag } from './cli/policy-flag.js';
import { commandUsage, isCommand, usage } from './cli/help.js';
import type { Command } from './cli/help.js';
import type { PolicyOverrides } from './workflows/policy.js';
import { transcriptLine } from './cli/transcript.js';
import { explainAck, explainStatus, statusMeaning } from './cli/words.js';

interface Options {
  readonly user?: string;
  readonly message?: string;
  readonly 'message-id'?: string;
  readonly signal: boolean;
  readonly wait: boolean;
  readonly status?: string;
  readonly limit?: string;
  readonly page?: string;
  readonly reason?: string;
  readonly policy?: string;
  readonly json: boolean;
  readonly help: boolean;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      message: { type: 'string' },
      'message-id': { type: 'string' },
      signal: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      status: { type: 'string' },
      limit: { type: 'string' },
      page: { type: 'string' },
      reason: { type: 'string' },
      policy: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

async function run(argv: string[]): Promise<unknown> {
  // Batches have options of their own; the batch store is the folder the workers write to.
  if (argv[0] === 'batch') {
    if (argv.length === 1 || argv.includes('--help') || argv.includes('-h') || argv[1] === 'help') return commandUsage('batch');
    const config = loadConfigOrExit();
    const conversations = await connect();
    const context = { client: conversations.temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, store: new BatchStore(batchDirFrom(config)), usageError: (m: string) => new UsageError(m, 'batch') };
    return runBatchCommand(argv.slice(1), context);
  }
  let parsed;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const values = parsed.values as Options;
  const [command, id, text] = parsed.positionals as [string | undefined, string | undefined, string | undefined];
  if (!command) return usage();
  if (!isCommand(command)) throw new UsageError(`unknown command "${command}"`);
  if (command === 'help') return id && isCommand(id) ? commandUsage(id) : usage();
  if (command === 'batch') return commandUsage('batch');
  if (values.help) return commandUsage(command);
  if (command !== 'list' && !id) throw new UsageError(`${command} needs ${command === 'users' ? 'a user' : 'a conversation'} ID`, command);
  // Checked before connecting, so bad input gets its own answer even when Temporal is down.
  const status = values.status === undefined ? undefined : validateStatus(values.status);
  if (command === 'start' && !values.user) throw new UsageError('start needs --user <user>', command);
  if (command !== 'start' && values.policy !== undefined) throw new UsageError('--policy is an option of start', command);
  const policyOverrides = parsePolicyFlag(values.policy);
  if (command === 'send' && !text) throw new UsageError('send needs the message text', command);
  const limit = numberOption(values.limit);
  const conversations = await connect();
  return runCommand(conversations, command, { id: id as string, text: text as string, status, limit, policyOverrides, values });
}

interface CommandInput {
  readonly id: string;
  readonly text: string;
  readonly status: ReturnType<typeof validateStatus> | undefined;
  readonly limit: number | undefined;
  readonly policyOverrides: PolicyOverrides | undefined;
  readonly values: Options;
}

async function runCommand(conversations: ConversationClient, command: Exclude<Command, 'help' | 'batch'>, input: CommandInput): Promise<unknown> {
  const { id: conversationId, text, values } = input;
  const raw = values.json;
  const mode = values.signal ? 'signal' : 'update';
  switch (command) {
    case 'start': {
      const message = values.message ? { text: values.message, messageId: values['message-id'] } : undefined;
      const started = await conversations.start({ conversationId, userId: values.user as string, message, mode, policyOverrides: input.policyOverrides });
      return { conversationId, ...started, ...(started.ack && !raw && { ack: explainAck(started.ack) }) };
    }
    case 'send':
      if (values.wait && !raw && mode === 'update') return followedTurn(conversations, conversationId, text, values['message-id']);
      return (
        maybeExplain(raw, await conversations.send(conversationId, { text, messageId: values['message-id'], ...(values.wait && { waitFor: 'turn' as const }) }, mode)) ?? {
          sent: true,
          mode,
        }
      );
    case 'ready':
      return maybeExplainStatus(raw, await conversations.waitUntilReady(conversationId));
    case 'info':
      return maybeExplainStatus(raw, await conversations.info(conversationId));
    case 'list': {
      const found = await conversations.list({ userId: values.user, status: input.status, limit: input.limit });
      return raw ? found : found.map((summary) => explainStatus(summary));
    }
    case 'pause':
      await conversations.pause(conversationId);
      return { conversationId, requested: 'pause' };
    case 'resume':
      await conversations.resume(conversationId);
      return { conversationId, requested: 'resume' };
    case 'close':
      await conversations.close(conversationId, values.reason);
      return { conversationId, requested: 'close' };
    case 'events': {
      const page = await conversations.events(conversationId, { limit: input.limit, pageId: values.page });
      if (raw) return page;
      const more = page.next_page_id ? [`(more: --page ${page.next_page_id})`] : [];
      return [...page.items.map(transcriptLine), ...more].join('\n') || '(no events yet)';
    }
    case 'users':
      return (
        (await conversations.userAdmission(conversationId)) ?? {
          userId: conversationId,
          held: [],
          queue: [],
          note: 'no admission workflow: this user has not started a conversation under a limit',
        }
      );
  }
}

/** `send --wait`: the transcript lines as they come, then how the turn ended. */
async function followedTurn(conversations: ConversationClient, conversationId: string, text: string, messageId: string | undefined): Promise<string> {
  const ack = await sendAndFollow(conversations, conversationId, { text, messageId }, (line) => console.log(line));
  const outcome = ack.outcome;
  if (ack.duplicate) return `(message ${ack.messageId} was a repeat: the conversation already has it)`;
  const how = outcome ? `${outcome.result}${outcome.executionStatus ? `, agent ${outcome.executionStatus}` : ''}${outcome.reason ? `: ${outcome.reason}` : ''}` : 'ended';
  return `turn ended (${how})`;
}

function maybeExplain<T extends Parameters<typeof explainAck>[0]>(raw: boolean, ack: T) {
  return raw ? ack : explainAck(ack);
}

function maybeExplainStatus<T extends { status?: string }>(raw: boolean, value: T) {
  return raw || !statusMeaning(value.status) ? value : explainStatus(value);
}

async function connect(): Promise<ConversationClient> {
  const config = loadConfigOrExit();
  const endpoint = await runtimeEndpointFor(config);
  return ConversationClient.connect({
    address: config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    runtimeApi: new RuntimeApiClient({ baseUrl: endpoint.url, apiKey: endpoint.apiKey }),
    dataConverter: dataConverterWith(await payloadCodecFrom(config)),
    transcriptDir: transcriptDirOf(config.DATA_DIR),
  });
}

class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message);
  }
}

function numberOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new UsageError(`expected a positive whole number, not "${value}"`);
  return number;
}

run(process.argv.slice(2)).then(
  (output) => {
    if (output !== undefined) console.log(typeof output === 'string' ? output : JSON.stringify(output, null, 2));
    process.exit(0);
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}\n\n${error.command ? commandUsage(error.command) : usage()}`);
    } else {
      const name = error instanceof Error ? error.name : 'Error';
      console.error(`error: ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
    process.exit(1);
  },
);
