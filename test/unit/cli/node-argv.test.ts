import test from 'ava';
import { envFilesNodeRead } from '../../../src/cli/node-argv';

test('the env files Node 20 reads from nbox arguments, as its own scan finds them', (t) => {
  const own = (cmdline: string[]) => envFilesNodeRead(cmdline, cmdline.length - cmdline.indexOf('main.js') - 1);
  t.deepEqual(own(['node', 'main.js', 'run', '--env-file', 'F', 'bb']), ['F']);
  t.deepEqual(own(['node', 'main.js', 'run', '--env-file=F', '--env-file-if-exists', 'G', 'bb']), ['F', 'G']);
  t.deepEqual(own(['node', 'main.js', 'run', '--env-file-if-exists=H', 'bb']), ['H']);
  // A "--" ends Node's scan: the installed command's shebang starts node with one.
  t.deepEqual(own(['node', '--', 'main.js', 'run', '--env-file', 'F', 'bb']), []);
  t.deepEqual(own(['node', 'main.js', 'run', '-e', 'A=1', '--', '--env-file', 'F']), []);
  // Node's own option before the script is the caller's choice, not nbox's arguments.
  t.deepEqual(own(['node', '--env-file=mine', 'main.js', 'images']), []);
  // A flag without a value reads nothing; names that only start alike are not the flag.
  t.deepEqual(own(['node', 'main.js', 'run', 'bb', '--env-file']), []);
  t.deepEqual(own(['node', 'main.js', 'run', '--env-filex=F', '--env-files', 'G', 'bb']), []);
  // As Node: the value after a bare flag is taken even when it is another flag.
  t.deepEqual(own(['node', 'main.js', 'run', '--env-file', '--env-file', 'F']), ['--env-file', 'F']);
});
