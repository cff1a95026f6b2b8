// `send --wait`: sends with `waitFor: 'turn'` and, while the turn runs, prints each new
// event of the agent's transcript as it appears, so the user watches the reply come in
// rather than staring at a silent terminal until the turn ends.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConversationClient, MessageAck, OutgoingMessage } from '../client.js';
import type { AgentEvent } from '../runtime-api/index.js';
import { transcriptLine } from './transcript.js';

/** How often the transcript is read while the turn runs: often enough to feel live, rare enough to cost nothing. */
const POLL_MS = 500;

export async function sendAndFollow(
  conversations: ConversationClient,
  conversationId: string,
  message: Omit<OutgoingMessage, 'waitFor'>,
  print: (line: string) => void,
): Promise<MessageAck> {
  const seen = new Set<string>();
  // Events from before this message are not part of its reply; a conversation whose runtime is not up yet has none to read.
  for (const event of await readAll(conversations, conversationId)) seen.add(event.id);
  const printNew = async () => {
    for (const event of await readAll(conversations, conversationId)) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      print(transcriptLine(event));
    }
  };
  let ended = false;
  const turn = conversations.send(conversationId, { ...message, waitFor: 'turn' }).finally(() => (ended = true));
  turn.catch(() => undefined); // awaited below; this only keeps it from counting as unhandled while we poll
  while (!ended) {
    await Promise.race([turn.catch(() => undefined), sleep(POLL_MS)]);
    await printNew();
  }
  const ack = (await turn) as MessageAck;
  return ack;
}

/** The transcript so far, or nothing while it cannot be read (runtime starting, paused, being replaced). */
async function readAll(conversations: ConversationClient, conversationId: string): Promise<AgentEvent[]> {
  try {
    return await conversations.allEvents(conversationId);
  } catch {
    return [];
  }
}
