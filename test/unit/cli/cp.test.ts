import test from 'ava';
import { landing, splitCpArg } from '../../../src/cli/commands/cp';

test('CONTAINER:PATH splits at the first colon', (t) => {
  t.deepEqual(splitCpArg('web:/etc/a:b'), { container: 'web', path: '/etc/a:b' });
});

test('an absolute path, a relative one without a colon, or one starting with . is local', (t) => {
  t.deepEqual(splitCpArg('/tmp/a:b'), { path: '/tmp/a:b' });
  t.deepEqual(splitCpArg('file'), { path: 'file' });
  t.deepEqual(splitCpArg('./x:y'), { path: './x:y' });
});

const base = { srcIsDir: false, srcName: 'src', contents: false, container: 'c' };

test('an existing directory takes the source by its name', (t) => {
  t.deepEqual(landing({ ...base, path: '/dir', dest: { isDirectory: true } }), { dir: '/dir', name: 'src' });
});

test('SRC/. into an existing directory copies the contents', (t) => {
  t.deepEqual(landing({ ...base, srcIsDir: true, contents: true, path: '/dir', dest: { isDirectory: true } }), { dir: '/dir', name: '.' });
});

test('a missing destination names the copy in its parent', (t) => {
  t.deepEqual(landing({ ...base, srcIsDir: true, path: '/dir/new', dest: null }), { dir: '/dir', name: 'new' });
});

test('a missing destination with a trailing slash must exist', (t) => {
  t.throws(() => landing({ ...base, path: '/nodir/', dest: null }), { message: 'Could not find the file /nodir/ in container c' });
});

test('an existing file is replaced by a file, never by a directory', (t) => {
  t.deepEqual(landing({ ...base, path: '/etc/motd', dest: { isDirectory: false } }), { dir: '/etc', name: 'motd' });
  t.throws(() => landing({ ...base, srcIsDir: true, path: '/etc/motd', dest: { isDirectory: false } }), { message: /cannot copy a directory to a file/ });
});

test('a relative container path is taken from the root', (t) => {
  t.deepEqual(landing({ ...base, path: 'tmp/x', dest: null }), { dir: '/tmp', name: 'x' });
});
