// Searching exported workflow histories for text that must not be there: the history as
// JSON, plus every base64 field in it decoded (as UTF-8 and as Latin-1), so text inside a
// payload is found whether or not it is encoded. `decryptedHistoryText` is the positive
// control: the same history with every payload decrypted by the codec, where the texts
// must be found — proof that the search itself can see them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { projectRoot, toolsDir } from '../../src/temporal/server.js';
import { TEMPORAL_CLI, projectInstallPath } from '../../src/temporal/tool-resolver.js';
import { temporalAddress } from './temporal.js';

const run = promisify(execFile);
const BASE64_FIELD = /"([A-Za-z0-9+/]{4,}={0,2})"/g;

/** The history of every run of `workflowId`, exported twice: by the SDK (fetchHistory) and by `temporal workflow show --output json`. */
export async function exportedHistories(client: Client, workflowId: string): Promise<string[]> {
  const exports: string[] = [];
  for await (const { history } of client.workflow.list({ query: `WorkflowId = '${workflowId}'` }).intoHistories()) {
    exports.push(historyToJSON(history as Parameters<typeof historyToJSON>[0]));
  }
  const cli = projectInstallPath(TEMPORAL_CLI, toolsDir(projectRoot));
  const { stdout } = await run(cli, ['workflow', 'show', '--workflow-id', workflowId, '--address', temporalAddress(), '--output', 'json'], { maxBuffer: 256 * 1024 * 1024 });
  exports.push(stdout);
  return exports;
}

/** The JSON and every base64 string in it, decoded both ways, as one text to search. */
export function searchableText(json: string): string {
  const decoded: string[] = [json];
  for (const [, field] of json.matchAll(BASE64_FIELD)) {
    const bytes = Buffer.from(field as string, 'base64');
    decoded.push(bytes.toString('utf8'), bytes.toString('latin1'));
  }
  return decoded.join('\n');
}

/** Which of `needles` occur in the text (with their names), for an assertion that lists the hits. */
export function hits(text: string, needles: Record<string, string>): string[] {
  return Object.entries(needles)
    .filter(([, needle]) => text.includes(needle))
    .map(([name]) => name);
}

/** Every payload of the exported history decrypted by `codec`, its data decoded to text. */
export async function decryptedHistoryText(json: string, codec: PayloadCodec): Promise<string> {
  const texts: string[] = [];
  const visit = async (node: unknown): Promise<void> => {
    if (Array.isArray(node)) {
      for (const item of node) await visit(item);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const { metadata, data } = node as { metadata?: Record<string, string>; data?: string };
    if (metadata && typeof metadata === 'object' && typeof data === 'string') {
      const payload = { metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])), data: Buffer.from(data, 'base64') };
      const [plain] = await codec.decode([payload]);
      texts.push(Buffer.from(plain?.data ?? new Uint8Array()).toString('utf8'));
      return;
    }
    for (const value of Object.values(node)) await visit(value);
  };
  await visit(JSON.parse(json));
  return texts.join('\n');
}
