// `npm run bench`: runs the benchmarks one after the other, each in its own process so
// that one's servers and memory never colour the next one's figures.
// `npm run bench -- conversations` runs only bench/conversations.ts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../src/temporal/server.js';

const ALL = ['runtime-api', 'conversations', 'scale', 'encryption', 'observability', 'recovery', 'agent-server', 'isolation', 'admission', 'batch'];

async function run(name: string): Promise<number> {
  const file = path.join('bench', `${name}.ts`);
  console.log(`\n=== ${file} ===\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: projectRoot, stdio: 'inherit' });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) console.error(`${file} ${signal ? `was killed by ${signal}` : `exited with ${code}`}`);
  return code ?? 1;
}

async function main(): Promise<number> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((name) => !existsSync(path.join(projectRoot, 'bench', `${name}.ts`)));
  if (unknown.length > 0) {
    console.error(`no such benchmark: ${unknown.join(', ')} (known: ${ALL.join(', ')})`);
    return 2;
  }
  // Without arguments: every known benchmark that exists in this checkout.
  const names = asked.length > 0 ? asked : ALL.filter((name) => existsSync(path.join(projectRoot, 'bench', `${name}.ts`)));
  let failed = 0;
  for (const name of names) if ((await run(name)) !== 0) failed++;
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
