// A client process for the admission tests: starts the given conversations of one user
// all at once through its own ConversationClient (its own connection), and prints one
// JSON line with what each start returned. Run as
//   node --import tsx test/support/admission-starter.ts '<StarterJob as JSON>'
import { ConversationClient, ConversationLimitError, TemporalUnavailableError } from '../../src/client.js';
import { testDataConverter } from './codec.js';

export interface StarterJob {
  readonly address: string;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly userId: string;
  readonly conversationIds: readonly string[];
  readonly idleDelayMs: number;
}

export type StartOutcome =
  | { readonly conversationId: string; readonly started: true; readonly admission: string | undefined }
  | { readonly conversationId: string; readonly started: false; readonly limit: number | undefined; readonly error: string };

async function main(job: StarterJob): Promise<StartOutcome[]> {
  const conversations = await ConversationClient.connect({
    address: job.address,
    namespace: job.namespace,
    taskQueue: job.taskQueue,
    policyOverrides: { idleDelayMs: job.idleDelayMs },
    dataConverter: await testDataConverter(),
  });
  return Promise.all(
    job.conversationIds.map(async (conversationId): Promise<StartOutcome> => {
      try {
        const { admission } = await startAsked(conversations, job.userId, conversationId);
        return { conversationId, started: true, admission: admission?.state };
      } catch (error) {
        const limit = error instanceof ConversationLimitError ? error.limit : undefined;
        return { conversationId, started: false, limit, error: error instanceof Error ? error.name : String(error) };
      }
    }),
  );
}

/**
 * As the client's contract asks: a start that a busy server timed out was not acknowledged,
 * and is sent again with the same message ID, which the conversation takes once.
 */
async function startAsked(conversations: ConversationClient, userId: string, conversationId: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await conversations.start({ conversationId, userId, message: { text: `echo ${conversationId}`, messageId: `first-${conversationId}` } });
    } catch (error) {
      if (!(error instanceof TemporalUnavailableError) || attempt >= 5) throw error;
    }
  }
}

main(JSON.parse(process.argv[2] ?? '{}') as StarterJob).then(
  (outcomes) => {
    console.log(JSON.stringify(outcomes));
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
