import test from 'ava';
import { NboxError } from '../../../src/errors';
import { containerCommand, type ArgvSources } from '../../../src/runtime/argv';

const containerArgv = (sources: ArgvSources) => containerCommand(sources).argv;
const shellForm = (text: string) => ['/bin/sh', '-c', text];

// The Dockerfile forms of the docs' "Understand how CMD and ENTRYPOINT interact"
// table, as they land in the image config (the builder turns shell form into sh -c).
const entrypoints = {
  none: undefined,
  shell: shellForm('exec_entry p1_entry'),
  exec: ['exec_entry', 'p1_entry'],
} as const;
const cmds = {
  none: undefined,
  exec: ['exec_cmd', 'p1_cmd'],
  shell: shellForm('exec_cmd p1_cmd'),
} as const;

// Rows are CMD, columns are ENTRYPOINT, as in the Docker docs. A shell-form
// ENTRYPOINT still receives CMD as extra arguments; sh -c binds them to $0, $1,
// which is why the docs say CMD is ignored there.
const table: Array<[keyof typeof cmds, keyof typeof entrypoints, string[] | 'error']> = [
  ['none', 'none', 'error'],
  ['none', 'shell', ['/bin/sh', '-c', 'exec_entry p1_entry']],
  ['none', 'exec', ['exec_entry', 'p1_entry']],
  ['exec', 'none', ['exec_cmd', 'p1_cmd']],
  ['exec', 'shell', ['/bin/sh', '-c', 'exec_entry p1_entry', 'exec_cmd', 'p1_cmd']],
  ['exec', 'exec', ['exec_entry', 'p1_entry', 'exec_cmd', 'p1_cmd']],
  ['shell', 'none', ['/bin/sh', '-c', 'exec_cmd p1_cmd']],
  ['shell', 'shell', ['/bin/sh', '-c', 'exec_entry p1_entry', '/bin/sh', '-c', 'exec_cmd p1_cmd']],
  ['shell', 'exec', ['exec_entry', 'p1_entry', '/bin/sh', '-c', 'exec_cmd p1_cmd']],
];

for (const [cmd, entrypoint, expected] of table) {
  test(`CMD ${cmd} x ENTRYPOINT ${entrypoint}`, (t) => {
    const run = () =>
      containerArgv({ imageEntrypoint: entrypoints[entrypoint] && [...entrypoints[entrypoint]], imageCmd: cmds[cmd] && [...cmds[cmd]], cmdArgs: [] });
    if (expected === 'error') {
      const error = t.throws(run, { instanceOf: NboxError, message: 'no command specified' });
      t.is(error?.code, 'ERR_NBOX_USAGE');
    } else {
      t.deepEqual(run(), expected);
    }
  });
}

test('CLI args replace CMD and follow ENTRYPOINT', (t) => {
  t.deepEqual(containerArgv({ imageEntrypoint: ['/entry.sh'], imageCmd: ['serve'], cmdArgs: ['migrate', '--dry-run'] }), [
    '/entry.sh',
    'migrate',
    '--dry-run',
  ]);
  t.deepEqual(containerArgv({ imageEntrypoint: null, imageCmd: ['sh'], cmdArgs: ['echo', 'hi'] }), ['echo', 'hi']);
});

test('--entrypoint replaces ENTRYPOINT and drops the image CMD', (t) => {
  t.deepEqual(
    containerArgv({ imageEntrypoint: ['/entry.sh'], imageCmd: ['serve'], entrypointOverride: '/bin/sh', cmdArgs: [] }),
    ['/bin/sh'],
  );
});

test('--entrypoint keeps CLI args', (t) => {
  t.deepEqual(
    containerArgv({ imageEntrypoint: ['/entry.sh'], imageCmd: ['serve'], entrypointOverride: 'env', cmdArgs: ['-i', 'A=1'] }),
    ['env', '-i', 'A=1'],
  );
});

test('--entrypoint is one argv element, never split on spaces', (t) => {
  t.deepEqual(containerArgv({ imageEntrypoint: null, imageCmd: null, entrypointOverride: 'my tool', cmdArgs: [] }), ['my tool']);
});

test("--entrypoint '' clears ENTRYPOINT and CMD, keeping CLI args", (t) => {
  t.deepEqual(
    containerArgv({ imageEntrypoint: ['/entry.sh'], imageCmd: ['serve'], entrypointOverride: '', cmdArgs: ['ls', '/'] }),
    ['ls', '/'],
  );
});

test("--entrypoint '' without CLI args has no command", (t) => {
  t.throws(() => containerArgv({ imageEntrypoint: ['/entry.sh'], imageCmd: ['serve'], entrypointOverride: '', cmdArgs: [] }), {
    instanceOf: NboxError,
    message: 'no command specified',
  });
});

test('empty ENTRYPOINT and CMD arrays count as unset', (t) => {
  t.throws(() => containerArgv({ imageEntrypoint: [], imageCmd: [], cmdArgs: [] }), { message: 'no command specified' });
});

test('containerArgv does not alias the image arrays', (t) => {
  const imageCmd = ['sleep', '1'];
  const argv = containerArgv({ imageEntrypoint: undefined, imageCmd, cmdArgs: [] });
  argv.push('x');
  t.deepEqual(imageCmd, ['sleep', '1']);
});
