// The CLI does the same whichever way main.js loads it: the bundle compiled with
// its code cache (the installed command), the bundle through require (as with
// --debug), or the modules tsc wrote (after a tsc run newer than the bundle).
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { CLI, rootTest, sharedTestStore } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

const ENTRIES = { installed: CLI, bundle: join(dirname(CLI), 'bundle.js'), modules: join(dirname(CLI), 'cli.js') };

// A bundle older than tsc's output is stale code, which main.js would not load.
const fresh = (statSync(ENTRIES.bundle, { throwIfNoEntry: false })?.mtimeMs ?? -1) >= statSync(CLI).mtimeMs;
const bundleTest = fresh ? test : test.skip;
if (!fresh) console.log('skipping the bundle comparisons: no bundle newer than the compiled modules (npm run build makes one)');

function run(entry: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--', entry, ...args], { env: { ...process.env, NBOX_ROOT: store.root }, encoding: 'utf8', input: '' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CASES: [string, string[]][] = [
  ['help', ['--help']],
  ['a verb help', ['run', '--help']],
  ['bad usage', ['tag']],
  ['a missing import file (a verb that loads a module on demand)', ['import', '/nonexistent/rootfs.tar']],
  ['a container exit code and output', ['run', '--rm', 'bb', 'sh', '-c', 'echo hi; echo err >&2; exit 3']],
  ['a listing', ['images', '-q']],
];

for (const [name, args] of CASES) {
  bundleTest(`${name}: the same from the bundle with its code cache, the bundle, and the modules`, (t) => {
    const modules = run(ENTRIES.modules, args);
    t.deepEqual(run(ENTRIES.installed, args), modules);
    t.deepEqual(run(ENTRIES.bundle, args), modules);
  });
}
