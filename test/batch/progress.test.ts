// The pieces of a batch that need no server: the CLI's progress line (rate over the last
// minute, ETA), and the store keeping one result per item when an append was repeated
// or cut short by a crash.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ProgressMeter, progressLine } from '../../src/batch/progress.js';
import { BatchStore } from '../../src/batch/store.js';
import type { BatchProgress } from '../../src/workflows/batch/messages.js';

const progress = (succeeded: number, failed: number, running: number, finished = false): BatchProgress => ({
  batchId: 'b', total: 1000, succeeded, failed, running, retried: 0, startedAt: '2026-01-01T00:00:00.000Z', runs: 1, ...(finished && { finishedAt: '2026-01-01T00:10:00.000Z' }),
});

describe('batch progress and results', () => {
  test('the progress line shows done, failed, running, the rate over the last minute and the ETA', () => {
    const meter = new ProgressMeter();
    assert.equal(meter.sample(progress(0, 0, 64), 0), 0);
    assert.equal(meter.sample(progress(90, 10, 64), 10_000), 10);
    assert.equal(progressLine(progress(90, 10, 64), 10, 10), '[#---------] 100/1000 done, 10 failed, 64 running, 10.0/s, ETA 1m30s');
    // A minute later only the last minute counts: a slow start does not drag the rate down.
    meter.sample(progress(500, 10, 64), 60_000);
    assert.equal(meter.sample(progress(800, 10, 64), 90_000), (810 - 510) / 30);
    assert.match(progressLine(progress(990, 10, 0, true), 0), /1000\/1000 done, 10 failed, 0 running, .* finished$/);
  });

  test('results: one line per item (the last written), a line cut short skipped', async (t) => {
    const root = await mkdtemp(path.join(tmpdir(), 'batch-store-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const store = new BatchStore(root);
    const settings = { batchId: 'b1', userId: 'u', total: 3, concurrency: 1, maxAttempts: 1, continueAsNewEvery: 10 };
    await store.create({ settings, inputDigest: 'x', createdAt: '' }, ['a', 'b', 'c']);
    assert.deepEqual(await store.page('b1', 0), ['a', 'b', 'c']);
    const result = (index: number) => ({ index, conversationId: `b1-${index}`, status: 'succeeded' as const, reply: `r${index}`, attempts: 1, durationMs: 1 });
    await store.appendResults('b1', [result(1), result(0)]);
    await appendFile(path.join(store.dir('b1'), 'results.jsonl'), '{"index":2,"conv');
    // The append retried after the crash: its first line is not lost to the cut one.
    await store.appendResults('b1', [result(2), result(1)]);
    const results = await store.results('b1');
    assert.deepEqual([...results.keys()].sort(), [0, 1, 2]);
  });
});
