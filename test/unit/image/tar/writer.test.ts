import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

import { digestLayerDir, layerTar } from '../../../../src/image/tar/writer';
import { OVERLAY_OPAQUE } from '../../../../src/image/merged-tree';
import { addon } from '../../../../src/sys/addon';

const asRoot = process.getuid?.() === 0 ? test : test.skip;

async function scratch(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-layer-tar-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function writeTar(layer: string, file: string): Promise<Buffer> {
  await pipeline(layerTar(layer), createWriteStream(file));
  return readFile(file);
}

function gnuList(file: string): string[] {
  return execFileSync('tar', ['--numeric-owner', '-tvf', file], { encoding: 'utf8' }).trim().split('\n')
    .map((line) => line.split(/\s+/).slice(5).join(' '));
}

test('files, dirs, symlinks and hardlinks become sorted tar entries that GNU tar reads back', async (t) => {
  const dir = await scratch(t);
  const layer = join(dir, 'layer');
  await mkdir(join(layer, 'b/sub'), { recursive: true });
  await writeFile(join(layer, 'b/file'), 'content\n');
  await link(join(layer, 'b/file'), join(layer, 'b/sub/again'));
  await symlink('../file', join(layer, 'b/sub/link'));
  await writeFile(join(layer, 'a'), '');
  const tar = await writeTar(layer, join(dir, 'out.tar'));
  t.deepEqual(gnuList(join(dir, 'out.tar')), ['a', 'b/', 'b/file', 'b/sub/', 'b/sub/again link to b/file', 'b/sub/link -> ../file']);
  const digest = await digestLayerDir(layer);
  t.is(digest.diffId, `sha256:${createHash('sha256').update(tar).digest('hex')}`);
  t.is(digest.size, tar.length);
  const out = join(dir, 'out');
  await mkdir(out);
  execFileSync('tar', ['-xf', join(dir, 'out.tar'), '-C', out]);
  t.is(await readFile(join(out, 'b/sub/again'), 'utf8'), 'content\n');
  t.is((await stat(join(out, 'b/file'))).ino, (await stat(join(out, 'b/sub/again'))).ino);
});

test('a long path is carried in a PAX header', async (t) => {
  const dir = await scratch(t);
  const layer = join(dir, 'layer');
  const deep = join(layer, 'd'.repeat(120));
  await mkdir(deep, { recursive: true });
  await writeFile(join(deep, 'f'.repeat(90)), 'x');
  await writeTar(layer, join(dir, 'out.tar'));
  t.deepEqual(gnuList(join(dir, 'out.tar')), [`${'d'.repeat(120)}/`, `${'d'.repeat(120)}/${'f'.repeat(90)}`]);
});

asRoot('overlay whiteouts and opaque dirs become .wh. entries; binary xattrs survive; overlay xattrs do not', async (t) => {
  const dir = await scratch(t);
  const layer = join(dir, 'layer');
  await mkdir(join(layer, 'opaque'), { recursive: true });
  addon().mknod(join(layer, 'deleted'), 0o020000, 0, 0);
  addon().lsetxattr(join(layer, 'opaque'), OVERLAY_OPAQUE, Buffer.from('y'));
  await writeFile(join(layer, 'ping'), 'binary');
  const capability = Buffer.from([1, 0, 0, 2, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  addon().lsetxattr(join(layer, 'ping'), 'security.capability', capability);
  await writeTar(layer, join(dir, 'out.tar'));
  t.deepEqual(gnuList(join(dir, 'out.tar')), ['.wh.deleted', 'opaque/', 'opaque/.wh..wh..opq', 'ping']);
  const out = join(dir, 'out');
  await mkdir(out);
  execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-xpf', join(dir, 'out.tar'), '-C', out]);
  t.deepEqual(addon().lgetxattr(join(out, 'ping'), 'security.capability'), capability);
  t.is(addon().lgetxattr(join(out, 'opaque'), OVERLAY_OPAQUE), null);
});

asRoot('device nodes keep majors past 255 and minors past 4095', async (t) => {
  const dir = await scratch(t);
  const layer = join(dir, 'layer');
  await mkdir(layer);
  addon().mknod(join(layer, 'block'), 0o060600, 259, 70000);
  addon().mknod(join(layer, 'char'), 0o020600, 4095, 1048575);
  addon().mknod(join(layer, 'null'), 0o020666, 1, 3);
  await writeTar(layer, join(dir, 'out.tar'));
  const listing = execFileSync('tar', ['--numeric-owner', '-tvf', join(dir, 'out.tar')], { encoding: 'utf8' }).trim().split('\n');
  t.deepEqual(listing.map((line) => line.split(/\s+/).slice(2, 3).concat(line.split(/\s+/).slice(-1))), [['259,70000', 'block'], ['4095,1048575', 'char'], ['1,3', 'null']]);
});
