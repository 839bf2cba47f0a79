import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { linkSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { treeSize } from '../../../src/image/tree-size';
import { tempDir } from '../builder/helpers';

test('treeSize sums what is not a directory, each hard-linked inode once, links unfollowed', async (t) => {
  const root = await tempDir(t);
  mkdirSync(join(root, 'tree/sub'), { recursive: true });
  writeFileSync(join(root, 'tree/a'), '12345');
  writeFileSync(join(root, 'tree/sub/b'), '123');
  linkSync(join(root, 'tree/sub/b'), join(root, 'tree/b-again'));
  writeFileSync(join(root, 'outside'), 'x'.repeat(1000));
  symlinkSync(root, join(root, 'tree/up'));
  t.is(await treeSize(join(root, 'tree')), 5 + 3 + root.length);
  t.is(await treeSize(join(root, 'tree/a')), 5);
  t.is(await treeSize(join(root, 'missing')), 0);
});

// A running container can swap a directory of its layer with a link to a host path while `ps -s` or
// `system df` walks it: the walk must never count (nor walk) what the link leads to.
test('treeSize never walks a directory swapped for a symlink mid-walk', async (t) => {
  const root = await tempDir(t);
  mkdirSync(join(root, 'tree/d'), { recursive: true });
  writeFileSync(join(root, 'tree/d/a'), 'a');
  mkdirSync(join(root, 'host'));
  writeFileSync(join(root, 'host/big'), '');
  truncateSync(join(root, 'host/big'), 1 << 30);
  symlinkSync(join(root, 'host'), join(root, 'tree/swap'));
  // renameat2(RENAME_EXCHANGE) in a loop: tree/d is the directory, then the link, then the directory…
  const swapper = spawn('python3', ['-c', [
    'import ctypes, os, sys',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'a, b = (os.fsencode(p) for p in sys.argv[1:3])',
    'while True: libc.renameat2(-100, a, -100, b, 2)',
  ].join('\n'), join(root, 'tree/d'), join(root, 'tree/swap')], { stdio: 'ignore' });
  t.teardown(async () => {
    swapper.kill('SIGKILL');
    if (swapper.exitCode === null && swapper.signalCode === null) await once(swapper, 'exit');
  });
  let largest = 0;
  for (let round = 0; round < 300; round++) largest = Math.max(largest, await treeSize(join(root, 'tree')));
  t.true(largest < 1 << 20, `counted ${largest} bytes`);
});
