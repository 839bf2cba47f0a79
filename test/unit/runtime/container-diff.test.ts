import test from 'ava';
import { changesOf, type UpperEntry } from '../../../src/runtime/container-diff';

type Kind = 'dir' | 'file' | 'whiteout';
const stats = (kind: Kind, mtimeMs = 1) => ({ mode: kind === 'dir' ? 0o40755 : 0o100644, mtimeMs, isDirectory: () => kind === 'dir' });
const upper = (path: string, kind: Kind, mtimeMs = 1): UpperEntry => ({ path, stats: stats(kind, mtimeMs), whiteout: kind === 'whiteout' });
const lines = (entries: UpperEntry[], image: Record<string, Kind>) =>
  changesOf(entries, (path) => (image[path] ? stats(image[path]) : null)).map((c) => `${c.kind} ${c.path}`);

test('an entry the image lacks is A, one it has is C, a whiteout is D', (t) => {
  t.deepEqual(lines([upper('/new', 'file'), upper('/old', 'file'), upper('/gone', 'whiteout')], { '/old': 'file', '/gone': 'file' }), ['A /new', 'C /old', 'D /gone']);
});

test('the walk order stands: parents first, so /a/b comes before /a-c (not string order)', (t) => {
  t.deepEqual(lines([upper('/a', 'dir'), upper('/a/b', 'file'), upper('/a-c', 'file')], {}), ['A /a', 'A /a/b', 'A /a-c']);
});

test('a copied-up directory that did not change is left out', (t) => {
  t.deepEqual(lines([upper('/etc', 'dir'), upper('/etc/passwd', 'file')], { '/etc': 'dir', '/etc/passwd': 'file' }), ['C /etc/passwd']);
});

test('an addition or deletion below an unchanged directory reports the directory as C first', (t) => {
  t.deepEqual(lines([upper('/etc', 'dir'), upper('/etc/group', 'whiteout'), upper('/etc/new', 'file')], { '/etc': 'dir', '/etc/group': 'file' }), ['C /etc', 'D /etc/group', 'A /etc/new']);
});

test('a directory whose mtime changed is C', (t) => {
  t.deepEqual(lines([upper('/tmp', 'dir', 2)], { '/tmp': 'dir' }), ['C /tmp']);
});
