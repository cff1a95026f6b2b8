#!/usr/bin/env node
// Completes package-lock.json with the platform packages npm could not record.
// Some registries (a filtered mirror, for one) do not serve every platform's build of a
// native package (@swc/core-darwin-arm64, say). npm then leaves those optional packages
// out of the lock, and `npm ci` refuses the lock ("Missing: … from lock file"). This
// adds each missing one as an optional entry with the os/cpu its name states, so every
// platform skips the builds that are not its own and fetches its own by name.
// Run after `npm install` changes the lock:   node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony', 'netbsd', 'openbsd', 'sunos', 'aix'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'wasm32'];

/** 'core-linux-arm-gnueabihf' → { os: ['linux'], cpu: ['arm'], libc: ['glibc'] }; undefined if the name says nothing. */
export function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((part) => OS.includes(part));
  const cpu = parts.find((part) => CPU.includes(part));
  if (!os || !cpu) return undefined;
  const libc = parts.some((part) => part.startsWith('musl')) ? 'musl' : parts.some((part) => part === 'gnu' || part.startsWith('gnueabi')) ? 'glibc' : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
}

const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
const added = [];
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const path = `node_modules/${name}`;
    if (lock.packages[path] || lock.packages[`${key}/${path}`]) continue;
    const platform = platformOf(name);
    if (!platform) continue;
    lock.packages[path] = { version, optional: true, ...platform };
    added.push(`${name}@${version}`);
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `added ${added.length} platform entries: ${added.join(', ')}` : 'lock file complete');
