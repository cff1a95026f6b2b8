// The Python finder against fake interpreters: real executable files in a temporary folder
// that answer the finder's probe the way a python of their version would.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FindPythonOptions, FoundPython } from '../../src/tools/python.js';
import { findPython, findPythons, shimKind } from '../../src/tools/python.js';

/** A fake python printing `version`; it fails to import any module named in `lacks`. */
async function fakePython(file: string, version: string, lacks: readonly string[] = []): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const refusals = lacks.map((m) => `case "$2" in *"import ${m}"*) echo "ModuleNotFoundError: No module named '${m}'" >&2; exit 1;; esac`);
  await writeFile(file, ['#!/bin/sh', ...refusals, `echo ${version}`, ''].join('\n'));
  await chmod(file, 0o755);
}

async function all(options: FindPythonOptions, attempts: string[] = []): Promise<FoundPython[]> {
  const found: FoundPython[] = [];
  for await (const python of findPythons(options, attempts)) found.push(python);
  return found;
}

describe('finding a real Python', () => {
  let root: string;
  let marker: string;
  let base: Pick<FindPythonOptions, 'searchPath' | 'pyenvRoot' | 'systemDirs'>;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'dc-python-'));
    marker = path.join(root, 'shim-ran');
    const bin = path.join(root, 'bin');
    const pyenv = path.join(root, 'pyenv');
    const system = path.join(root, 'usr-bin');
    await fakePython(path.join(bin, 'python3.13'), '3.13.2', ['venv']);
    await symlink(path.join(bin, 'python3.13'), path.join(bin, 'python3')); // the same interpreter twice
    await fakePython(path.join(pyenv, 'versions', '3.12.4', 'bin', 'python3.12'), '3.12.4');
    await fakePython(path.join(pyenv, 'versions', '3.14.0', 'bin', 'python3.14'), '3.14.0');
    await fakePython(path.join(pyenv, 'versions', '3.9.1', 'bin', 'python3.9'), '3.9.1');
    await fakePython(path.join(system, 'python3'), '3.11.2');
    // A pyenv shim that would hang, as one does on a stale lock; it must never run.
    const shims = path.join(root, 'shims-on-path', 'shims');
    await mkdir(shims, { recursive: true });
    await writeFile(path.join(shims, 'python3.12'), `#!/bin/sh\ntouch '${marker}'\nsleep 30\nexec pyenv exec "$@"\n`);
    await chmod(path.join(shims, 'python3.12'), 0o755);
    base = { searchPath: [shims, bin].join(path.delimiter), pyenvRoot: pyenv, systemDirs: [system] };
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('PATH first, then pyenv versions newest first, then the system folders; each interpreter once', async () => {
    const found = await all({ ...base, min: [3, 8] });
    assert.deepEqual(
      found.map((p) => p.version),
      ['3.13.2', '3.14.0', '3.12.4', '3.9.1', '3.11.2'],
    );
    assert.equal(found[0]!.path, path.join(root, 'bin', 'python3.13'));
  });

  test('a shim is recognised without being run', async () => {
    const attempts: string[] = [];
    const started = Date.now();
    await all({ ...base, min: [3, 12] }, attempts);
    assert.ok(Date.now() - started < 10_000, 'the 30 s shim was not waited for');
    await assert.rejects(stat(marker), { code: 'ENOENT' }, 'the shim never ran');
    assert.ok(attempts.some((a) => /shims\/python3\.12 \(on PATH\): a pyenv shim, not run/.test(a)), attempts.join('\n'));
  });

  test('too old versions are left out, by folder name without running them and by answer', async () => {
    const attempts: string[] = [];
    const found = await all({ ...base, min: [3, 12] }, attempts);
    assert.deepEqual(found.map((p) => p.version), ['3.13.2', '3.14.0', '3.12.4']);
    assert.ok(attempts.some((a) => /versions: 3\.9\.1 older than 3\.12/.test(a)), attempts.join('\n'));
    assert.ok(attempts.some((a) => /usr-bin\/python3 \(.*\): Python 3\.11\.2, older than 3\.12/.test(a)), attempts.join('\n'));
  });

  test('an interpreter without a required module is passed over, saying which', async () => {
    const attempts: string[] = [];
    const first = await findPython({ ...base, min: [3, 12], modules: ['venv', 'ensurepip'] }, attempts);
    assert.deepEqual(first, { path: path.join(root, 'pyenv', 'versions', '3.14.0', 'bin', 'python3.14'), version: '3.14.0' });
    assert.ok(attempts.some((a) => /python3\.13 \(on PATH\): does not run or lacks venv\/ensurepip: ModuleNotFoundError/.test(a)), attempts.join('\n'));
  });

  test('nothing suitable: undefined, and the attempts say why', async () => {
    const attempts: string[] = [];
    assert.equal(await findPython({ ...base, min: [3, 15] }, attempts), undefined);
    assert.ok(attempts.length >= 3, attempts.join('\n'));
    assert.equal(await findPython({ min: [3, 12], searchPath: '', pyenvRoot: path.join(root, 'none'), systemDirs: [] }, attempts), undefined);
    assert.match(attempts.at(-1)!, /no python3 executable on PATH/);
  });

  test('shim kinds: pyenv and asdf scripts, a script in a shims folder; never an interpreter', async () => {
    const asdf = path.join(root, 'asdf-python');
    await writeFile(asdf, '#!/usr/bin/env bash\nexec asdf exec "python3" "$@"\n');
    assert.equal(await shimKind(path.join(root, 'shims-on-path', 'shims', 'python3.12')), 'pyenv');
    assert.equal(await shimKind(asdf), 'asdf');
    const other = path.join(root, 'other', 'shims', 'python3');
    await fakePython(other, '3.12.0');
    assert.equal(await shimKind(other), 'version-manager');
    assert.equal(await shimKind(path.join(root, 'bin', 'python3.13')), undefined);
    assert.equal(await shimKind(process.execPath), undefined, 'a binary is no shim');
  });
});
