import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundleOption } from '@temporalio/worker';
import { projectRoot } from '../../src/temporal/server.js';
import { workflowsPath } from '../../src/worker.js';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../src/observability/tracing.js';
import { FAILURE_CONVERTER_PATH } from '../../src/codec/data-converter.js';
import { testDataConverter } from '../support/codec.js';

const fixtures = path.join(projectRoot, 'test', 'fixtures', 'histories');
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

async function loadHistories(): Promise<Array<{ workflowId: string; history: object }>> {
  const files = (await readdir(fixtures)).filter((file) => file.endsWith('.json')).sort();
  return Promise.all(files.map(async (file) => ({ workflowId: file, history: JSON.parse(await readFile(path.join(fixtures, file), 'utf8')) })));
}

/** The workflow type a recorded history ran (its first event starts it). */
function workflowTypeOf(history: object): string | undefined {
  const first = (history as { events?: Array<{ workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }> }).events?.[0];
  return first?.workflowExecutionStartedEventAttributes?.workflowType?.name;
}

async function replayAll(workflowBundle: WorkflowBundleOption, only?: string) {
  const histories = (await loadHistories()).filter(({ history }) => only === undefined || workflowTypeOf(history) === only);
  const results: Array<{ workflowId: string; error?: unknown }> = [];
  // The fixtures are encrypted with the test key: replay decodes them through the codec, as a worker does.
  const dataConverter = await testDataConverter();
  for await (const result of Worker.runReplayHistories({ workflowBundle, dataConverter }, histories)) results.push(result);
  return results;
}

describe('replaying recorded histories (determinism)', () => {
  test('every recorded run replays against the current workflow code', async () => {
    const bundlePath = process.env.TEST_WORKFLOW_BUNDLE;
    const bundle = bundlePath ? { codePath: bundlePath } : { code: (await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, failureConverterPath: FAILURE_CONVERTER_PATH, logger: quiet })).code };
    const results = await replayAll(bundle);
    assert.ok(results.length >= 6, `expected the recorded fixtures, found ${results.length}`);
    assert.ok(results.some(({ workflowId }) => workflowId.startsWith('admission-')), 'admission is covered');
    for (const { workflowId, error } of results) assert.equal(error, undefined, `${workflowId} failed to replay: ${String(error)}`);
  });

  describe('with a deliberately non-deterministic change', () => {
    let mutant: string;
    before(async () => {
      // A copy of src/ whose workflow sleeps before provisioning: new code, old histories.
      mutant = await mkdtemp(path.join(tmpdir(), 'dc-mutant-'));
      await cp(path.join(projectRoot, 'src'), path.join(mutant, 'src'), { recursive: true });
      await symlink(path.join(projectRoot, 'node_modules'), path.join(mutant, 'node_modules'));
      const file = path.join(mutant, 'src', 'workflows', 'conversation.ts');
      const source = await readFile(file, 'utf8');
      const changed = source
        .replace("import { ApplicationFailure,", "import { sleep as mutantSleep, ApplicationFailure,")
        .replace('  publish(state);\n  try {', "  publish(state);\n  await mutantSleep('1ms');\n  try {");
      assert.notEqual(changed, source, 'the mutation applied');
      await writeFile(file, changed);
    });
    after(async () => {
      await rm(mutant, { recursive: true, force: true });
    });

    test('is caught as a determinism violation', async () => {
      const { code } = await bundleWorkflowCode({ workflowsPath: path.join(mutant, 'src', 'workflows', 'index.ts'), logger: quiet });
      // The mutation is in the conversation workflow; the admission workflow's histories still replay.
      const results = await replayAll({ code }, 'conversationWorkflow');
      assert.ok(results.length > 0);
      for (const { workflowId, error } of results) {
        assert.ok(error instanceof DeterminismViolationError, `${workflowId}: expected a DeterminismViolationError, got ${String(error)}`);
      }
    });
  });
});
