// Transcripts kept after a runtime is stopped: the agent's events live in the runtime,
// so once a conversation is closed (or archived) they would be gone with it. The worker
// writes them, just before it stops a runtime, as one JSON event per line to
// `<DATA_DIR>/transcripts/<conversation ID>.jsonl`; `events` reads them from there
// afterwards. With payload encryption on, the same lines are sealed by the payload codec
// (codec/sealed-file.ts) into `<conversation ID>.jsonl.enc`: a transcript holds the
// conversation's messages, which history holds only encrypted. The file is written whole
// to a temporary name and renamed, so a reader never sees half of one, and a retried stop
// only writes it again.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PayloadCodec } from '@temporalio/common';
import { openBytes, sealBytes } from './codec/sealed-file.js';
import { eventSchema } from './runtime-api/agent-server-schemas.js';
import type { AgentEvent, EventPage } from './runtime-api/index.js';

export const transcriptDirOf = (dataDir: string) => path.join(dataDir, 'transcripts');

/** Conversation IDs are validated to `[A-Za-z0-9._-]` and never dots only, so the ID is a safe file name. */
export const transcriptPath = (dir: string, conversationId: string) => path.join(dir, `${conversationId}.jsonl`);
const sealedPath = (dir: string, conversationId: string) => `${transcriptPath(dir, conversationId)}.enc`;

/** A sealed transcript, and no codec to open it. */
export class TranscriptEncryptedError extends Error {
  constructor(readonly file: string) {
    super(`the transcript ${file} is encrypted with the workers' payload keys: give this process the same ENCRYPTION_KEYS or ENCRYPTION_KEYS_FILE to read it`);
    this.name = 'TranscriptEncryptedError';
  }
}

/** `codecs`: the payload codecs of the worker's data converter; none writes the lines in the clear. */
export async function writeTranscript(dir: string, conversationId: string, events: readonly AgentEvent[], codecs: readonly PayloadCodec[] = []): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const text = events.map((event) => JSON.stringify(event)).join('\n') + (events.length ? '\n' : '');
  const sealed = codecs.length > 0;
  const file = sealed ? sealedPath(dir, conversationId) : transcriptPath(dir, conversationId);
  const temporary = `${file}.${process.pid}.tmp`;
  // Owner-only: the transcript holds the conversation's messages, as the runtime's own files do.
  await writeFile(temporary, sealed ? await sealBytes(codecs, Buffer.from(text, 'utf8')) : text, { mode: 0o600 });
  await rename(temporary, file);
  // One transcript per conversation: the other form, from before encryption was turned on or off, is out of date.
  await rm(sealed ? transcriptPath(dir, conversationId) : sealedPath(dir, conversationId), { force: true });
  return file;
}

/** The kept transcript, or undefined when there is none; `codecs` open a sealed one. */
export async function readTranscript(dir: string, conversationId: string, codecs: readonly PayloadCodec[] = []): Promise<AgentEvent[] | undefined> {
  const sealedFile = sealedPath(dir, conversationId);
  const sealed = await readIfThere(sealedFile);
  let text: string | undefined;
  if (sealed) {
    if (codecs.length === 0) throw new TranscriptEncryptedError(sealedFile);
    text = (await openBytes(codecs, sealed)).toString('utf8');
  } else {
    text = (await readIfThere(transcriptPath(dir, conversationId)))?.toString('utf8');
  }
  if (text === undefined) return undefined;
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => eventSchema.parse(JSON.parse(line)));
}

async function readIfThere(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** A page of a kept transcript, with the same cursor shape as the agent server's (the page ID is an offset). */
export function transcriptPage(events: readonly AgentEvent[], page: { pageId?: string; limit?: number }): EventPage {
  const start = page.pageId ? Number(page.pageId) || 0 : 0;
  const end = start + (page.limit ?? 100);
  return { items: events.slice(start, end), next_page_id: end < events.length ? String(end) : null };
}
