// The CLI's help: one entry per command, shown by `help`, `help <command>`,
// `<command> --help`, and under a usage error.
import { BATCH_USAGE } from '../batch/cli.js';
import { CONVERSATION_STATUSES } from '../workflows/validation.js';
import { STATUS_GLOSSARY } from './words.js';
import { POLICY_FLAG_FORM } from './policy-flag.js';

interface CommandHelp {
  readonly synopsis: string;
  readonly summary: string;
  readonly details?: string;
}

export const COMMAND_HELP = {
  start: {
    synopsis: 'start <id> --user <user> [--message <text>] [--signal] [--policy <name=value,…>]',
    summary: 'start a conversation, or join it if it already runs; reopens a closed one',
    details:
      '--message sends a first message with the start; --signal sends it fire-and-forget instead of waiting for its ack.\n' +
      'Waits until the user\'s admission is decided (a slot, a place in the queue, or a refusal).\n' +
      `--policy: this conversation's overrides of the workers' policy, e.g. idleDelay=30s; ${POLICY_FLAG_FORM}.\n` +
      'The workers refuse any they do not allow (CONVERSATION_POLICY_OVERRIDES; by default only idleDelay): nothing starts then.',
  },
  send: {
    synopsis: 'send <id> <text> [--message-id <id>] [--wait | --signal]',
    summary: "send a user message; --wait prints the agent's reply as it comes and ends with the turn",
    details:
      'Without --wait it returns once the message is queued: its ack says where (position 1 = next to go to the agent).\n' +
      '--message-id <id>: send again with the same ID after an error; the conversation takes it once.\n' +
      '--signal: fire-and-forget (no ack).',
  },
  ready: { synopsis: 'ready <id>', summary: 'wait until provisioning has ended (the runtime runs, or failed)' },
  info: { synopsis: 'info <id>', summary: 'status, runtime, counters and last error of one conversation' },
  list: {
    synopsis: 'list [--user <user>] [--status <status>] [--limit <n>]',
    summary: 'conversations from Temporal visibility (a few seconds behind)',
    details: `--status: one of ${CONVERSATION_STATUSES.join(', ')} (any letter case).`,
  },
  pause: { synopsis: 'pause <id>', summary: "pause the conversation's runtime now (the next message resumes it)" },
  resume: { synopsis: 'resume <id>', summary: "resume a paused conversation's runtime" },
  close: {
    synopsis: 'close <id> [--reason <text>]',
    summary: "close the conversation: its runtime is stopped and its transcript kept in the worker's data folder",
  },
  events: {
    synopsis: 'events <id> [--limit <n>] [--page <page id>] [--json]',
    summary: "the agent's transcript: one line per event (who said what, tool calls and results)",
    details:
      'Read from the runtime while it lives; after close, from the transcript kept at close (DATA_DIR/transcripts).\n' +
      '--json prints the raw agent-server events; --limit and --page page through them (100 per page by default).',
  },
  users: { synopsis: 'users <user id>', summary: "the user's conversation limit, the slots held and the queue" },
  batch: {
    synopsis: 'batch run|status|results …',
    summary: 'run a JSONL file of prompts as conversations, with progress; its results',
    details: `${BATCH_USAGE}`,
  },
  help: { synopsis: 'help [<command>]', summary: 'this text, or one command\'s' },
} as const satisfies Record<string, CommandHelp>;

export type Command = keyof typeof COMMAND_HELP;

export const isCommand = (name: string): name is Command => Object.hasOwn(COMMAND_HELP, name);

const ENVIRONMENT = `Where it connects (the same variables as \`npm start\`; defaults suit a local \`npm start\`):
  TEMPORAL_ADDRESS   Temporal frontend host:port (default 127.0.0.1:TEMPORAL_PORT, 7233)
  RUNTIME_API_URL    Runtime API, for events (default http://127.0.0.1:8000, key from DATA_DIR)
  DATA_DIR           where \`npm start\` keeps its keys and transcripts (default ./data)`;

export function usage(): string {
  const width = Math.max(...Object.values(COMMAND_HELP).map((help) => help.synopsis.length));
  const lines = Object.values(COMMAND_HELP).map((help: CommandHelp) => `  ${help.synopsis.padEnd(width)}  ${help.summary}`);
  return [
    'usage: conversations <command> [options]   (`conversations help <command>` for one command)',
    ...lines,
    '',
    'Options common to every command: --json (raw JSON output), --help.',
    '',
    'Conversation statuses (as the Temporal UI shows them):',
    STATUS_GLOSSARY,
    '',
    ENVIRONMENT,
  ].join('\n');
}

export function commandUsage(command: Command): string {
  const help: CommandHelp = COMMAND_HELP[command];
  return [`usage: conversations ${help.synopsis}`, '', help.summary, ...(help.details ? ['', help.details] : [])].join('\n');
}
