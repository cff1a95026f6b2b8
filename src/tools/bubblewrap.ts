// Finds bubblewrap (`bwrap`), the tool that puts each sandbox in namespaces of its own (the
// mechanism Flatpak uses). It is a Debian package, not a pip or npm one: found at an
// explicit path or on PATH, else installed with apt-get where we run as root
// (debian-packages.ts). Anywhere else the error says how to get it.
import path from 'node:path';
import { ToolNotFoundError } from '../temporal/tool-resolver.js';
import { aptInstall, findOnPath } from './debian-packages.js';
import { isExecutable } from './python.js';

export const BUBBLEWRAP = { executable: 'bwrap', debianPackage: 'bubblewrap', pathVariable: 'RUNTIME_BWRAP_PATH' } as const;

export interface ResolveBubblewrapOptions {
  readonly explicitPath?: string;
  /** @default process.env.PATH */
  readonly searchPath?: string;
  /** Install with apt-get when missing, if we are root and apt-get exists. @default true */
  readonly install?: boolean;
  readonly log?: (message: string) => void;
}

export async function resolveBubblewrap(options: ResolveBubblewrapOptions = {}): Promise<string> {
  const { executable, debianPackage, pathVariable } = BUBBLEWRAP;
  if (options.explicitPath) {
    if (await isExecutable(options.explicitPath)) return path.resolve(options.explicitPath);
    throw new ToolNotFoundError(debianPackage, [`${pathVariable}=${options.explicitPath}: not an executable file`]);
  }
  const searchPath = options.searchPath ?? process.env.PATH ?? '';
  const found = await findOnPath([executable], searchPath);
  if (found) return found;
  const attempts = [`PATH: no executable named ${executable}`];
  if (process.platform !== 'linux') {
    attempts.push(`${process.platform}: namespaces are a Linux feature; there is no bubblewrap here`);
  } else if (!(options.install ?? true)) {
    attempts.push('installing was not allowed here (`npm run setup` installs it)');
  } else {
    const problem = await aptInstall([debianPackage], options.log);
    const installed = await findOnPath([executable], `${searchPath}${path.delimiter}/usr/bin`);
    if (installed) return installed;
    attempts.push(`apt-get install ${debianPackage}: ${problem ?? `installed, but no ${executable} on PATH`}`);
  }
  throw new ToolNotFoundError(debianPackage, attempts);
}
