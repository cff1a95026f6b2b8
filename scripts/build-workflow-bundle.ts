// `npx tsx scripts/build-workflow-bundle.ts [out]`: bundles the workflows once (with the
// failure converter, as every worker's must be) into a file a worker loads through
// WORKFLOW_BUNDLE_PATH, so workers start without bundling (the Docker image does this at
// build time). Default output: dist/workflow-bundle.js.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../src/codec/data-converter.js';
import { projectRoot } from '../src/temporal/server.js';
import { workflowsPath } from '../src/worker.js';

const out = path.resolve(process.argv[2] ?? path.join(projectRoot, 'dist', 'workflow-bundle.js'));
const bundle = await bundleWorkflowCode({ workflowsPath, failureConverterPath: FAILURE_CONVERTER_PATH });
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, bundle.code);
console.log(`workflow bundle: ${out} (${Math.round(bundle.code.length / 1024)} KiB); run workers with WORKFLOW_BUNDLE_PATH=${out}`);
