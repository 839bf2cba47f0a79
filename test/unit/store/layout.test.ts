import test from 'ava';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Store } from '../../../src/image/store';
import { STORE_DIRS } from '../../../src/store/layout';
import { tempDir } from '../image/helpers';

async function modeOf(file: string): Promise<number> {
  return (await fs.stat(file)).mode & 0o7777;
}

async function tree(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).sort();
}

test('a new store is 0700 throughout and marked with its version', async (t) => {
  const root = path.join(await tempDir(t), 'a', 'b', 'root');
  const store = await Store.open(root);
  t.is(store.root.dir, root);
  t.is(await modeOf(root), 0o700);
  for (const name of STORE_DIRS) t.is(await modeOf(path.join(root, name)), 0o700, name);
  t.is(await fs.readFile(path.join(root, 'version'), 'utf8'), 'nbox store 1\n');
  await Store.open(root);
  t.is(await fs.readFile(path.join(root, 'version'), 'utf8'), 'nbox store 1\n');
});

test('open repairs the modes of a store whose directories are 0755', async (t) => {
  const root = path.join(await tempDir(t), 'root');
  await Store.open(root);
  for (const dir of [root, ...STORE_DIRS.map((name) => path.join(root, name))]) await fs.chmod(dir, 0o755);
  await Store.open(root);
  t.is(await modeOf(root), 0o700);
  for (const name of STORE_DIRS) t.is(await modeOf(path.join(root, name)), 0o700, name);
});

test('a store of the layout before the version file is adopted, marked and repaired', async (t) => {
  const root = path.join(await tempDir(t), 'root');
  for (const name of ['tmp', 'layers', 'images', 'containers', 'names', 'buildcache']) await fs.mkdir(path.join(root, name), { recursive: true, mode: 0o755 });
  await fs.chmod(root, 0o755);
  for (const name of ['lock', 'gc.lock']) await fs.writeFile(path.join(root, name), '');
  await fs.writeFile(path.join(root, 'images', 'repositories.json'), '{}\n');
  const store = await Store.open(root);
  t.deepEqual(await store.images.list(), []);
  t.is(await fs.readFile(path.join(root, 'version'), 'utf8'), 'nbox store 1\n');
  t.is(await modeOf(root), 0o700);
  t.is(await modeOf(path.join(root, 'layers')), 0o700);
});

test('an empty root, a non-empty directory that is no store, a file and a later layout are refused and left as they were', async (t) => {
  await t.throwsAsync(Store.open(''), { code: 'ERR_NBOX_USAGE', message: /^the store root is empty: set NBOX_ROOT or --root/ } as object);

  const project = await tempDir(t);
  await fs.mkdir(path.join(project, 'tmp', 'keepme'), { recursive: true });
  await fs.writeFile(path.join(project, 'tmp', 'report.txt'), 'mine');
  await fs.writeFile(path.join(project, 'notes.txt'), 'mine');
  const before = await tree(project);
  const modeBefore = await modeOf(project);
  const err = await t.throwsAsync(Store.open(project), { code: 'ERR_NBOX_STORE' } as object);
  t.is(err!.message, `${project} is not an nbox store: it holds "notes.txt" and no version file; give an empty or new directory`);
  t.deepEqual(await tree(project), before);
  t.is(await modeOf(project), modeBefore);

  const file = path.join(project, 'notes.txt');
  await t.throwsAsync(Store.open(file), { message: `${file} is not an nbox store: it is not a directory` });

  const later = path.join(await tempDir(t), 'later');
  await Store.open(later);
  await fs.writeFile(path.join(later, 'version'), 'nbox store 2\n');
  await t.throwsAsync(Store.open(later), { message: `${later} is not an nbox store: its version file says layout 2, and this nbox knows layout 1` });
  await fs.writeFile(path.join(later, 'version'), '1.0\n');
  await t.throwsAsync(Store.open(later), { message: `${later} is not an nbox store: its version file is not an nbox store's` });
});

test('a root on procfs or sysfs is refused at once instead of making directories there', async (t) => {
  await t.throwsAsync(Store.open('/proc/self/store'), { code: 'ERR_NBOX_STORE', message: 'cannot keep a store in /proc/self/store: it is on proc, which cannot hold one' } as object);
  await t.throwsAsync(Store.open('/proc/self'), { message: 'cannot keep a store in /proc/self: it is on proc, which cannot hold one' });
  await t.throwsAsync(Store.open('/sys/fs/nbox'), { message: /^cannot keep a store in \/sys\/fs\/nbox: it is on sysfs, which cannot hold one$/ });
});

test('names nbox does not make survive in layers/ and tmp/ through open and removals', async (t) => {
  const root = path.join(await tempDir(t), 'root');
  const store = await Store.open(root);
  await fs.mkdir(path.join(root, 'layers', 'mine'));
  await fs.writeFile(path.join(root, 'layers', 'mine', 'keep'), 'x');
  await fs.writeFile(path.join(root, 'tmp', 'report.txt'), 'x');
  const id = await store.images.add(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })), ['app']);
  await store.images.remove(id);
  await Store.open(root);
  t.deepEqual(await fs.readdir(path.join(root, 'layers')), ['mine']);
  t.deepEqual(await fs.readdir(path.join(root, 'tmp')), ['report.txt']);
});
