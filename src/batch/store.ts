// The batch store: a folder per batch under BATCH_DIR with the prompts in pages (written
// once by the client, read page by page by the workflow's activities) and the results
// as JSON lines appended by the workflow's activities. An append that is retried after a
// worker died may write an item's line twice, so readers keep one line per item (the
// last); a line cut short by a crash is skipped, and its retry writes it whole.
// The workers and the CLI must see the same folder (one machine, or a shared volume).
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BATCH_PAGE_SIZE } from '../workflows/batch/messages.js';
import type { BatchProgress, BatchSettings, ItemResult } from '../workflows/batch/messages.js';

export interface BatchManifest {
  readonly settings: BatchSettings;
  /** sha256 of the input file, so a second `batch run` of another file under the same ID is refused. */
  readonly inputDigest: string;
  readonly createdAt: string;
}

export class BatchStore {
  constructor(readonly root: string) {}

  dir(batchId: string): string {
    return path.join(this.root, batchId);
  }

  /** Writes the prompts and the manifest; each file appears whole (written aside, then renamed). */
  async create(manifest: BatchManifest, prompts: readonly string[]): Promise<void> {
    const dir = this.dir(manifest.settings.batchId);
    await mkdir(path.join(dir, 'pages'), { recursive: true });
    for (let page = 0; page * BATCH_PAGE_SIZE < prompts.length; page++) {
      await writeWhole(this.#pagePath(manifest.settings.batchId, page), JSON.stringify(prompts.slice(page * BATCH_PAGE_SIZE, (page + 1) * BATCH_PAGE_SIZE)));
    }
    await writeWhole(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  }

  async manifest(batchId: string): Promise<BatchManifest | undefined> {
    try {
      return JSON.parse(await readFile(path.join(this.dir(batchId), 'manifest.json'), 'utf8')) as BatchManifest;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async page(batchId: string, page: number): Promise<string[]> {
    return JSON.parse(await readFile(this.#pagePath(batchId, page), 'utf8')) as string[];
  }

  async appendResults(batchId: string, results: readonly ItemResult[]): Promise<void> {
    // Each append starts on a line of its own, so a line cut short by a crash never swallows the next append's first.
    await appendFile(path.join(this.dir(batchId), 'results.jsonl'), `\n${results.map((r) => JSON.stringify(r)).join('\n')}\n`);
  }

  async finish(batchId: string, progress: BatchProgress): Promise<void> {
    await writeWhole(path.join(this.dir(batchId), 'final.json'), JSON.stringify(progress, null, 2));
  }

  /** One result per item index (the last line written for it). */
  async results(batchId: string): Promise<Map<number, ItemResult>> {
    let text = '';
    try {
      text = await readFile(path.join(this.dir(batchId), 'results.jsonl'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const byIndex = new Map<number, ItemResult>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const result = JSON.parse(line) as ItemResult;
        byIndex.set(result.index, result);
      } catch {
        // Cut short by a crash mid-append; the retried append wrote it whole.
      }
    }
    return byIndex;
  }

  #pagePath(batchId: string, page: number): string {
    return path.join(this.dir(batchId), 'pages', `${String(page).padStart(6, '0')}.json`);
  }
}

async function writeWhole(file: string, content: string): Promise<void> {
  const aside = `${file}.tmp`;
  await writeFile(aside, content);
  await rename(aside, file);
}
