// The docs hold what a newcomer follows: every link in the README and docs/ leads to a
// file of this repository, and the README's code snippet is examples/quickstart.ts, which
// runs where the README says (the repository root) against a real worker.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { projectRoot } from '../../src/temporal/server.js';
import { startConversationStack } from '../support/conversations.js';
import { temporalAddress } from '../support/temporal.js';

async function markdownFiles(): Promise<string[]> {
  const docs = (await readdir(path.join(projectRoot, 'docs'))).filter((name) => name.endsWith('.md')).map((name) => path.join('docs', name));
  return ['README.md', ...docs];
}

describe('docs', () => {
  test('every relative link in README.md and docs/*.md names a file in the repository', async () => {
    const broken: string[] = [];
    for (const file of await markdownFiles()) {
      const text = await readFile(path.join(projectRoot, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (!target || /^(https?:|mailto:|#)/.test(target)) continue;
        const resolved = path.resolve(projectRoot, path.dirname(file), target.split('#')[0] as string);
        if (!resolved.startsWith(projectRoot + path.sep)) broken.push(`${file}: ${target} (outside the repository)`);
        else await access(resolved).catch(() => broken.push(`${file}: ${target} (no such file)`));
      }
      for (const [outside] of text.matchAll(/\.\.\/shared\/[^\s`)]*/g)) broken.push(`${file}: ${outside} (outside the repository)`);
    }
    assert.deepEqual(broken, []);
  });

  test("the README's snippet is examples/quickstart.ts and runs from the repository root", async (t) => {
    const readme = await readFile(path.join(projectRoot, 'README.md'), 'utf8');
    const example = await readFile(path.join(projectRoot, 'examples', 'quickstart.ts'), 'utf8');
    const snippet = /## Use it from application code[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.equal(snippet, example, 'README.md and examples/quickstart.ts differ');

    const stack = await startConversationStack();
    t.after(() => stack.close());
    const env = { ...process.env, TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_TASK_QUEUE: stack.temporal.taskQueue };
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/quickstart.ts'], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += String(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (output += String(chunk)));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, output);
    assert.match(output, /position: [12], duplicate: false/);
    assert.match(output, /result: 'answered'/);
    assert.match(output, /status: 'RUNNING'/);
  });
});
