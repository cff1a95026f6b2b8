// `conversations <command>`: the operator's command line over ConversationClient,
// against the embedded stack of a running `npm start` (or whatever TEMPORAL_ADDRESS and
// RUNTIME_API_URL name). Prints JSON; exits 1 with a one-line error on failure.
import { parseArgs } from 'node:util';
import { ConversationClient } from './client.js';
import { dataConverterWith, payloadCodecFrom } from './codec/data-converter.js';
import { BatchStore } from './batch/store.js';
import { BATCH_USAGE, runBatchCommand } from './batch/cli.js';
import { batchDirFrom, loadConfigOrExit, policyFrom } from './config.js';
import { RuntimeApiClient } from './runtime-api/index.js';
import { runtimeEndpointFor } from './runtime-endpoint.js';
import { validateStatus } from './workflows/validation.js';

const USAGE = `usage: conversations <command> [options]
  start <id> --user <user> [--message <text>] [--signal]   start (or join) a conversation
  send <id> <text> [--message-id <id>] [--signal|--wait]   send a user message; --wait: until the agent's turn ends
  ready <id>                                               wait until provisioning has ended
  info <id>                                                status, runtime, counters, last error
  list [--user <user>] [--status <status>] [--limit <n>]   conversations from Temporal visibility
                     (status: starting|running|stopped|archived|error, any case)
  pause <id> | resume <id> | close <id> [--reason <text>]  lifecycle on demand
  events <id> [--limit <n>] [--page <page id>]             the agent's events, read through the runtime
  users <user id>                                          the user's limit, slots held and queue
${BATCH_USAGE}`;

const COMMANDS = ['start', 'send', 'ready', 'info', 'list', 'pause', 'resume', 'close', 'events', 'users'] as const;
type Command = (typeof COMMANDS)[number];

async function run(argv: string[]): Promise<unknown> {
  // Batches have options of their own; the batch store is the folder the workers write to.
  if (argv[0] === 'batch') {
    const config = loadConfigOrExit();
    const conversations = await connect();
    const context = { client: conversations.temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, store: new BatchStore(batchDirFrom(config)), usageError: (m: string) => new UsageError(m) };
    return runBatchCommand(argv.slice(1), context);
  }
  const { positionals, values } = parseArgs({
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
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, id, text] = positionals as [string | undefined, string | undefined, string | undefined];
  if (values.help || !command) return usage();
  if (!COMMANDS.includes(command as Command)) throw new UsageError(`unknown command "${command}"`);
  const needsId = command !== 'list';
  if (needsId && !id) throw new UsageError(`${command} needs ${command === 'users' ? 'a user' : 'a conversation'} ID`);
  const conversationId = id as string;
  // Checked before connecting, so bad input gets its own answer even when Temporal is down.
  const status = values.status === undefined ? undefined : validateStatus(values.status);
  const conversations = await connect();
  const mode = values.signal ? 'signal' : 'update';
  switch (command as Command) {
    case 'start': {
      if (!values.user) throw new UsageError('start needs --user <user>');
      const message = values.message ? { text: values.message, messageId: values['message-id'] } : undefined;
      return { conversationId, ...(await conversations.start({ conversationId, userId: values.user, message, mode })) };
    }
    case 'send':
      if (!text) throw new UsageError('send needs the message text');
      return (
        (await conversations.send(conversationId, { text, messageId: values['message-id'], ...(values.wait && { waitFor: 'turn' as const }) }, mode)) ?? {
          sent: true,
          mode,
        }
      );
    case 'ready':
      return conversations.waitUntilReady(conversationId);
    case 'info':
      return conversations.info(conversationId);
    case 'list':
      return conversations.list({ userId: values.user, status, limit: numberOption(values.limit) });
    case 'pause':
      await conversations.pause(conversationId);
      return { conversationId, requested: 'pause' };
    case 'resume':
      await conversations.resume(conversationId);
      return { conversationId, requested: 'resume' };
    case 'close':
      await conversations.close(conversationId, values.reason);
      return { conversationId, requested: 'close' };
    case 'events':
      return conversations.events(conversationId, { limit: numberOption(values.limit), pageId: values.page });
    case 'users':
      return (await conversations.userAdmission(conversationId)) ?? { userId: conversationId, held: [], queue: [], note: 'no admission workflow: this user has not started a conversation under a limit' };
  }
}

async function connect(): Promise<ConversationClient> {
  const config = loadConfigOrExit();
  const endpoint = await runtimeEndpointFor(config);
  return ConversationClient.connect({
    address: config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    policy: policyFrom(config),
    runtimeApi: new RuntimeApiClient({ baseUrl: endpoint.url, apiKey: endpoint.apiKey }),
    dataConverter: dataConverterWith(await payloadCodecFrom(config)),
  });
}

class UsageError extends Error {}

function usage(): string {
  return USAGE;
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
    const name = error instanceof Error ? error.name : 'Error';
    console.error(`error: ${error instanceof UsageError ? `${error.message}\n${USAGE}` : `${name}: ${error instanceof Error ? error.message : String(error)}`}`);
    process.exit(1);
  },
);
