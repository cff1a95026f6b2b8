// Transcripts kept after a runtime is stopped: the agent's events live in the runtime,
// so once a conversation is closed (or archived) they would be gone with it. The worker
// writes them, just before it stops a runtime, as one JSON event per line to
// `<DATA_DIR>/transcripts/<conversation ID>.jsonl`; `events` reads them from there
// afterwards. The file is written whole to a temporary name and renamed, so a reader
// never sees half of one, and a retried stop only writes it again.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { eventSchema } from './runtime-api/agent-server-schemas.js';
import type { AgentEvent, EventPage } from './runtime-api/index.js';

export const transcriptDirOf = (dataDir: string) => path.join(dataDir, 'transcripts');

/** Conversation IDs are validated to `[A-Za-z0-9._-]` and never dots only, so the ID is a safe file name. */
export const transcriptPath = (dir: string, conversationId: string) => path.join(dir, `${conversationId}.jsonl`);

export async function writeTranscript(dir: string, conversationId: string, events: readonly AgentEvent[]): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = transcriptPath(dir, conversationId);
  const temporary = `${file}.${process.pid}.tmp`;
  // Owner-only: the transcript holds the conversation's messages, as the runtime's own files do.
  await writeFile(temporary, events.map((event) => JSON.stringify(event)).join('\n') + (events.length ? '\n' : ''), { mode: 0o600 });
  await rename(temporary, file);
  return file;
}

/** The kept transcript, or undefined when there is none. */
export async function readTranscript(dir: string, conversationId: string): Promise<AgentEvent[] | undefined> {
  let text: string;
  try {
    text = await readFile(transcriptPath(dir, conversationId), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => eventSchema.parse(JSON.parse(line)));
}

/** A page of a kept transcript, with the same cursor shape as the agent server's (the page ID is an offset). */
export function transcriptPage(events: readonly AgentEvent[], page: { pageId?: string; limit?: number }): EventPage {
  const start = page.pageId ? Number(page.pageId) || 0 : 0;
  const end = start + (page.limit ?? 100);
  return { items: events.slice(start, end), next_page_id: end < events.length ? String(end) : null };
}
