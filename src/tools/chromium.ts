// Finds a headless-capable Chromium for the browser test that looks at the Temporal UI,
// or installs Debian's `chromium` package with apt-get when running as root (as on the
// project's machines and CI). Browser builds downloaded by npm packages cannot be fetched
// here, so the distribution's package is the one source; anything else must be on PATH
// or named by CHROMIUM_PATH.
import { aptInstall, findOnPath } from './debian-packages.js';
import { isExecutable } from './python.js';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

export class ChromiumNotFoundError extends Error {
  constructor(readonly attempts: readonly string[]) {
    super(`no Chromium found or installable. Tried:\n${attempts.map((a) => `  - ${a}`).join('\n')}`);
    this.name = 'ChromiumNotFoundError';
  }
}

export interface ResolveChromiumOptions {
  readonly explicitPath?: string;
  /** Install Debian's package with apt-get when missing and root. @default true */
  readonly install?: boolean;
  readonly log?: (message: string) => void;
}

export async function resolveChromium(options: ResolveChromiumOptions = {}): Promise<string> {
  const attempts: string[] = [];
  if (options.explicitPath) {
    if (await isExecutable(options.explicitPath)) return options.explicitPath;
    throw new ChromiumNotFoundError([`CHROMIUM_PATH=${options.explicitPath}: not an executable file`]);
  }
  const found = await findOnPath(NAMES);
  if (found) return found;
  attempts.push(`PATH: none of ${NAMES.join(', ')}`);
  if (options.install === false) throw new ChromiumNotFoundError([...attempts, 'apt-get: not allowed here']);
  // Fonts too: without any, the browser test's pages render as boxes.
  const problem = await aptInstall(['chromium', 'fonts-dejavu-core'], options.log);
  if (!problem) {
    const installed = await findOnPath(NAMES);
    if (installed) return installed;
    attempts.push('apt-get install chromium: installed, but no chromium on PATH');
  } else {
    attempts.push(`apt-get install chromium: ${problem}`);
  }
  throw new ChromiumNotFoundError(attempts);
}
