import test from 'ava';
import { join } from 'node:path';
import { MergedTree } from '../../../src/image/merged-tree';
import { isRoot, makeTree, tempDir, type Node } from '../builder/helpers';

const asRoot = isRoot ? test : test.skip;

async function layers(t: Parameters<typeof tempDir>[0], trees: Record<string, Node>[]): Promise<string[]> {
  const root = await tempDir(t);
  return Promise.all(trees.map((nodes, at) => makeTree(join(root, `l${at}`), nodes)));
}

test('readdir merges directories across layers, sorted', async (t) => {
  const tree = new MergedTree(await layers(t, [{ 'etc/b': 'b', 'etc/c': 'upper' }, { 'etc/a': 'a', 'etc/c': 'lower' }]), { isOpaque: () => false });
  t.deepEqual(tree.readdir('/etc'), ['a', 'b', 'c']);
  t.true(tree.lstat('/etc/c')!.hostPath.includes('/l0/'));
  t.is(tree.readdir('/etc/b'), null);
});

test('resolve follows symlinks in-root and keeps missing names', async (t) => {
  const tree = new MergedTree(await layers(t, [{ lib: { link: 'usr/lib' }, 'usr/lib/': { dir: true }, up: { link: '../../..' } }]), { isOpaque: () => false });
  t.is(tree.resolve('/lib/x/y'), '/usr/lib/x/y');
  t.is(tree.resolve('/up/lib'), '/usr/lib');
  t.is(tree.resolve('/missing/../z'), '/z');
  t.is(tree.readlink('/lib'), 'usr/lib');
  t.is(tree.stat('/lib')!.path, '/usr/lib');
  t.is(tree.lstat('/lib')!.path, '/lib');
});

test('a symlink loop throws in resolve and is null in stat', async (t) => {
  const tree = new MergedTree(await layers(t, [{ a: { link: 'b' }, b: { link: 'a' } }]), { isOpaque: () => false });
  t.is(tree.stat('/a'), null);
  t.throws(() => tree.resolve('/a/x'), { message: /too many levels of symbolic links/ });
});

test('no layers: nothing exists and paths resolve as written', (t) => {
  const tree = new MergedTree([]);
  t.is(tree.stat('/'), null);
  t.is(tree.resolve('/a/../b'), '/b');
});

asRoot('whiteouts hide entries and opaque directories hide lower contents', async (t) => {
  const dirs = await layers(t, [{ 'd/gone': { whiteout: true }, 'o/': { dir: true }, 'o/new': 'n' }, { 'd/gone': 'x', 'd/kept': 'k', 'o/old': 'o' }]);
  const tree = new MergedTree(dirs, { isOpaque: (dir) => dir === join(dirs[0], 'o') });
  t.deepEqual(tree.readdir('/d'), ['kept']);
  t.deepEqual(tree.readdir('/o'), ['new']);
  t.is(tree.lstat('/d/gone'), null);
});
