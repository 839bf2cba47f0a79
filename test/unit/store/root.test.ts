import test from 'ava';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { StoreRoot } from '../../../src/store/root';
import { processStartTime } from '../../../src/sys/proc';
import { tempDir } from '../image/helpers';

async function openRoot(t: Parameters<typeof tempDir>[0]): Promise<StoreRoot> {
  return StoreRoot.open(path.join(await tempDir(t), 'root'));
}

test('open creates the layout', async (t) => {
  const root = await openRoot(t);
  for (const entry of ['tmp', 'layers', 'images', 'containers']) t.true((await fs.stat(path.join(root.dir, entry))).isDirectory(), entry);
  t.true((await fs.stat(path.join(root.dir, 'lock'))).isFile());
  t.is(root.containersDir, path.join(root.dir, 'containers'));
  t.true((await fs.stat(root.containersDir)).isDirectory());
});

test('open removes temp entries of dead processes and keeps live ones and names it did not make', async (t) => {
  const root = path.join(await tempDir(t), 'root');
  await StoreRoot.open(root);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const own = `${process.pid}-${processStartTime(process.pid)}`;
  const entries = {
    dead: `${dead}-12345-aaaaaaaaaaaa`,
    reused: `${process.pid}-1-bbbbbbbbbbbb-layer`,
    live: `${own}-cccccccccccc`,
    liveFile: `${own}-dddddddddddd-gzip`,
    foreign: 'garbage',
    foreignNumbered: `${dead}-12345-report.txt`,
  };
  for (const [key, name] of Object.entries(entries)) {
    if (key === 'liveFile') await fs.writeFile(path.join(root, 'tmp', name), 'x');
    else await fs.mkdir(path.join(root, 'tmp', name, 'sub'), { recursive: true });
  }
  await StoreRoot.open(root);
  t.deepEqual((await fs.readdir(path.join(root, 'tmp'))).sort(), [entries.live, entries.liveFile, entries.foreign, entries.foreignNumbered].sort());
});

test('writeFileAtomic replaces the file and leaves no temp file', async (t) => {
  const root = await openRoot(t);
  const target = path.join(root.containersDir, 'state.json');
  await root.writeFileAtomic(target, 'one');
  await root.writeFileAtomic(target, Buffer.from('two'));
  t.is(await fs.readFile(target, 'utf8'), 'two');
  await t.throwsAsync(root.writeFileAtomic(path.join(root.dir, 'no', 'such', 'dir'), 'x'), { code: 'ENOENT' } as object);
  t.deepEqual(await fs.readdir(path.join(root.dir, 'tmp')), []);
  const made = await root.makeTempDir('build');
  t.regex(path.basename(made), new RegExp(`^${process.pid}-\\d+-[0-9a-f]{12}-build$`));
  await root.removeTree(made);
  await root.removeTree(made);
  t.deepEqual(await fs.readdir(path.join(root.dir, 'tmp')), []);
});

test('withLock is exclusive within a process and reentrant', async (t) => {
  const root = await openRoot(t);
  const other = await StoreRoot.open(root.dir);
  const events: string[] = [];
  const hold = (s: StoreRoot, name: string) =>
    s.withLock(async () => {
      events.push(`${name}+`);
      await new Promise((resolve) => setTimeout(resolve, 30));
      t.is(await s.withLock(async () => name), name);
      events.push(`${name}-`);
    });
  await Promise.all([hold(root, 'a'), hold(other, 'b'), hold(root, 'c')]);
  for (let i = 0; i < events.length; i += 2) t.is(events[i].slice(0, 1), events[i + 1].slice(0, 1));
});


test('removeTree and writeFileAtomic refuse a path outside the store', async (t) => {
  const root = await openRoot(t);
  const outside = path.join(path.dirname(root.dir), 'outside');
  await fs.writeFile(outside, 'kept');
  await t.throwsAsync(root.removeTree(outside), { code: 'ERR_NBOX_STORE', message: /is not inside the store/ } as object);
  await t.throwsAsync(root.writeFileAtomic(outside, 'x'), { code: 'ERR_NBOX_STORE' } as object);
  await t.throwsAsync(root.removeTree(root.dir), { code: 'ERR_NBOX_STORE' } as object);
  t.is(await fs.readFile(outside, 'utf8'), 'kept');
  t.deepEqual(await fs.readdir(path.join(root.dir, 'tmp')), []);
});

test('removeTree removes a tree without following its symlinks, and a file or a missing path', async (t) => {
  const root = await openRoot(t);
  const outside = path.join(path.dirname(root.dir), 'outside');
  await fs.mkdir(path.join(outside, 'sub'), { recursive: true });
  await fs.writeFile(path.join(outside, 'sub', 'kept'), 'kept');
  const doomed = path.join(root.containersDir, 'doomed');
  await fs.mkdir(path.join(doomed, 'a', 'b', 'c'), { recursive: true });
  await fs.writeFile(path.join(doomed, 'a', 'b', 'c', 'file'), 'x');
  await fs.writeFile(path.join(doomed, 'a', 'file'), 'x');
  await fs.symlink(outside, path.join(doomed, 'a', 'to-dir'));
  await fs.symlink(path.join(outside, 'sub', 'kept'), path.join(doomed, 'to-file'));
  t.is(spawnSync('mkfifo', [path.join(doomed, 'a', 'fifo')]).status, 0);
  await root.removeTree(doomed);
  await t.throwsAsync(fs.lstat(doomed), { code: 'ENOENT' });
  t.is(await fs.readFile(path.join(outside, 'sub', 'kept'), 'utf8'), 'kept');
  const file = path.join(root.containersDir, 'file');
  await fs.writeFile(file, 'x');
  await root.removeTree(file);
  await t.throwsAsync(fs.lstat(file), { code: 'ENOENT' });
  await root.removeTree(path.join(root.containersDir, 'missing'));
  t.deepEqual(await fs.readdir(path.join(root.dir, 'tmp')), []);
});

test('removeTree removes a tree nested deeper than a path can name, with one fd at any depth', async (t) => {
  const root = await openRoot(t);
  const doomed = path.join(root.containersDir, 'deep');
  await fs.mkdir(doomed);
  // 3000 levels of 2 bytes: a path of 6 kB, past PATH_MAX, so only a walk by fds reaches the bottom.
  const made = spawnSync('perl', ['-e', 'for (1..3000) { mkdir "d" or die $!; chdir "d" or die $! } open(F, ">leaf") or die $!'], { cwd: doomed });
  t.is(made.status, 0, made.stderr.toString());
  await root.removeTree(doomed);
  await t.throwsAsync(fs.lstat(doomed), { code: 'ENOENT' });
  t.deepEqual(await fs.readdir(path.join(root.dir, 'tmp')), []);
});

test('discardTree takes the tree out of its place at once and deletes it in the background', async (t) => {
  const root = await openRoot(t);
  const doomed = path.join(root.containersDir, 'doomed');
  await fs.mkdir(path.join(doomed, 'sub'), { recursive: true });
  await fs.writeFile(path.join(doomed, 'sub', 'file'), 'x');
  root.discardTree(doomed);
  await t.throwsAsync(fs.lstat(doomed), { code: 'ENOENT' });
  for (let i = 0; i < 100 && (await fs.readdir(path.join(root.dir, 'tmp'))).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.deepEqual(await fs.readdir(path.join(root.dir, 'tmp')), []);
  t.notThrows(() => root.discardTree(path.join(root.containersDir, 'missing')));
  t.throws(() => root.discardTree(path.join(path.dirname(root.dir), 'outside')), { code: 'ERR_NBOX_STORE' } as object);
});
