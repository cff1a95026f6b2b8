// Finds a compose tool to validate docker-compose.yml with (test/foundation/compose.test.ts),
// or installs Debian's `docker-compose` (1.29.2 on bookworm) with apt-get when running as
// root, as chromium is. Only `config` is ever run: no Docker daemon is needed.
import { aptInstall, findOnPath } from './debian-packages.js';

/** The docker-compose executable, or why there is none. */
export async function resolveDockerCompose(log?: (message: string) => void): Promise<{ path: string } | { missing: string }> {
  const found = await findOnPath(['docker-compose']);
  if (found) return { path: found };
  const problem = await aptInstall(['docker-compose'], log);
  const installed = problem ? undefined : await findOnPath(['docker-compose']);
  return installed ? { path: installed } : { missing: problem ?? 'apt-get install docker-compose: installed, but no docker-compose on PATH' };
}
