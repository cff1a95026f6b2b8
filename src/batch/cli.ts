// `conversations batch …`: run a JSONL file as a durable batch, watch it, read its
// results. Killing the CLI loses nothing: the batch runs in Temporal, and `batch status`
// or the same `batch run` attaches to it again.
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import type { BatchProgress, ItemMode } from '../workflows/batch/messages.js';
import { BatchClient, BatchWorkflowStuckError } from './client.js';
import { ProgressMeter, progressLine } from './progress.js';
import type { BatchStore } from './store.js';
import { parsePolicyFlag } from '../cli/policy-flag.js';

export const BATCH_USAGE = `  batch run <file.jsonl> [--concurrency <n>] [--shared <pool> [--runtimes <n>]] [--item-mode turn|conversation] [--id <id>] [--user <user>] [--max-attempts <n>] [--policy <name=value,…>] [--detach]
                     run each line ({"prompt": "..."}) as an agent conversation; shows progress until done (again: attaches)
                     --item-mode: "turn" (the default with --shared) runs each item as one activity on the shared runtime,
                     "conversation" as a conversation workflow of its own (visible in the UI; the only mode without --shared)
  batch status <id> [--watch]                              the batch's progress (--watch: live, until it ends)
  batch results <id>                                       one JSON line per item, in input order`;

export interface BatchCliContext {
  readonly client: Client;
  readonly taskQueue: string;
  readonly store: BatchStore;
  readonly usageError: (message: string) => Error;
}

export async function runBatchCommand(argv: string[], context: BatchCliContext): Promise<unknown> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      concurrency: { type: 'string' },
      shared: { type: 'string' },
      runtimes: { type: 'string' },
      id: { type: 'string' },
      user: { type: 'string' },
      'max-attempts': { type: 'string' },
      policy: { type: 'string' },
      'item-mode': { type: 'string' },
      detach: { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
    },
  });
  const [sub, arg] = positionals;
  const batches = new BatchClient(context);
  if (!arg) throw context.usageError(`batch ${sub ?? ''} needs ${sub === 'run' ? 'an input file' : 'a batch ID'}`.replace('  ', ' '));
  switch (sub) {
    case 'run': {
      const input = await readFile(arg, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw context.usageError(`cannot read ${arg}: ${error.code ?? error.message}`);
      });
      const run = await batches.run({
        input,
        batchId: values.id,
        userId: values.user,
        concurrency: count(values.concurrency, context),
        shared: values.shared,
        runtimes: count(values.runtimes, context),
        maxAttempts: count(values['max-attempts'], context),
        policyOverrides: parsePolicyFlag(values.policy),
        itemMode: values['item-mode'] as ItemMode | undefined,
      });
      process.stderr.write(`batch ${run.batchId}: ${run.total} items (${run.attached ? 'attached to the running batch' : 'started'})\n`);
      if (values.detach) return run;
      return watch(batches, run.batchId);
    }
    case 'status':
      return values.watch ? watch(batches, arg) : batches.progress(arg);
    case 'results': {
      // The CLI exits right after: every line must have reached the pipe by then.
      for await (const line of batches.results(arg)) if (!process.stdout.write(`${JSON.stringify(line)}\n`)) await once(process.stdout, 'drain');
      await new Promise((resolve) => process.stdout.write('', resolve));
      return undefined;
    }
    default:
      throw context.usageError(`unknown batch command "${sub ?? ''}"`);
  }
}

/**
 * Redraws the progress line (in place on a terminal, every 10 s otherwise) until the batch ends.
 * A batch whose workflow task is failing is said so, and watched on: a worker replaying a long
 * run catches up by itself, and a fixed and restarted worker carries the batch on.
 */
async function watch(batches: BatchClient, batchId: string): Promise<BatchProgress> {
  const meter = new ProgressMeter();
  const tty = process.stderr.isTTY === true;
  let lastPrinted = 0;
  for (;;) {
    let progress: BatchProgress;
    try {
      progress = await batches.progress(batchId);
    } catch (error) {
      if (!(error instanceof BatchWorkflowStuckError)) throw error;
      process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${error.message} Still watching (Ctrl-C stops watching; the batch goes on).\n`);
      continue;
    }
    const line = progressLine(progress, meter.sample(progress));
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else if (progress.finishedAt || Date.now() - lastPrinted >= 10_000) {
      process.stderr.write(`${line}\n`);
      lastPrinted = Date.now();
    }
    if (progress.finishedAt) {
      if (tty) process.stderr.write('\n');
      return progress;
    }
    await sleep(1_000);
  }
}

function count(value: string | undefined, context: BatchCliContext): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw context.usageError(`expected a positive whole number, not "${value}"`);
  return number;
}
