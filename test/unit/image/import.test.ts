import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { importImage } from '../../../src/image/import';
import { unpackLayer } from '../../../src/image/tar/unpack';
import { ImageConfig } from '../../../src/image/oci';
import { HOST_PLATFORM } from '../../../src/image/platform';
import { Store } from '../../../src/image/store';
import { makeTar, sha256sum, tempDir } from './helpers';

async function storeSnapshot(root: string): Promise<string[]> {
  const entries: string[] = [];
  for (const dir of ['images', 'layers', 'tmp']) entries.push(...(await fs.readdir(path.join(root, dir))).map((name) => `${dir}/${name}`));
  return entries.sort();
}

test('importImage yields the tar digest as diffID and a docker-import config', async (t) => {
  const dir = await tempDir(t);
  const tarPath = await makeTar(path.join(dir, 'rootfs'), { 'bin/hello': '#!/bin/sh\necho hi\n', 'etc/motd': 'hello\n' });
  await fs.symlink('hello', path.join(dir, 'rootfs', 'bin', 'hi'));
  execFileSync('tar', ['-C', path.join(dir, 'rootfs'), '-cf', tarPath, '.']);
  const store = await Store.open(path.join(dir, 'root'));

  const id = await importImage(store, createReadStream(tarPath), { tags: ['hello'], changes: ['CMD ["sh"]', 'ENV A=1'] });
  const image = await store.images.resolve('hello:latest');
  t.is(image.id, id);
  const config: ImageConfig = image.config;
  t.deepEqual(config.rootfs, { type: 'layers', diff_ids: [sha256sum(tarPath)] });
  t.deepEqual(config.config, { Cmd: ['sh'], Env: ['A=1'] });
  t.is(config.architecture, HOST_PLATFORM.architecture);
  t.is(config.os, HOST_PLATFORM.os);
  t.deepEqual(config.history, [{ created: config.created, created_by: '', comment: 'Imported from -' }]);
  t.is(image.size, (await fs.stat(tarPath)).size);
  const [diff] = await store.layers.dirs(config);
  t.is(await fs.readFile(path.join(diff, 'etc', 'motd'), 'utf8'), 'hello\n');
  t.is(await fs.readlink(path.join(diff, 'bin', 'hi')), 'hello');
  t.is((await fs.stat(path.join(diff, 'bin', 'hello'))).mode & 0o777, (await fs.stat(path.join(dir, 'rootfs', 'bin', 'hello'))).mode & 0o777);

  // Same content again: the layer is deduplicated and nothing is left in tmp/.
  const again = await importImage(store, createReadStream(tarPath), { message: 'second' });
  t.not(again, id);
  t.is((await fs.readdir(path.join(store.root.dir, 'layers'))).length, 1);
  t.deepEqual(await fs.readdir(path.join(store.root.dir, 'tmp')), []);
  t.is((await store.images.resolve(again)).config.history?.[0].comment, 'second');
});

test('a gzipped tar gets the diffID of the uncompressed tar', async (t) => {
  const dir = await tempDir(t);
  const tarPath = await makeTar(path.join(dir, 'rootfs'), { a: 'a'.repeat(100000) });
  execFileSync('gzip', ['-k', tarPath]);
  await fs.mkdir(path.join(dir, 'out'));
  const { split: _split, ...digest } = await unpackLayer(createReadStream(`${tarPath}.gz`), path.join(dir, 'out'));
  t.deepEqual(digest, { diffId: sha256sum(tarPath), size: (await fs.stat(tarPath)).size });
  t.is((await fs.readFile(path.join(dir, 'out', 'a'), 'utf8')).length, 100000);
});

test('the diffID covers bytes after the end-of-archive blocks, which tar does not read', async (t) => {
  const dir = await tempDir(t);
  const tarPath = await makeTar(path.join(dir, 'rootfs'), { a: 'a' });
  const padded = Buffer.concat([await fs.readFile(tarPath), Buffer.alloc(1 << 20)]);
  await fs.mkdir(path.join(dir, 'out'));
  const { split: _split, ...digest } = await unpackLayer(Readable.from([padded]), path.join(dir, 'out'));
  t.deepEqual(digest, { diffId: `sha256:${createHash('sha256').update(padded).digest('hex')}`, size: padded.length });
});

test('a failed import leaves the store as it was', async (t) => {
  const dir = await tempDir(t);
  const store = await Store.open(path.join(dir, 'root'));
  const before = await storeSnapshot(store.root.dir);
  const err = await t.throwsAsync(importImage(store, Readable.from([Buffer.from('this is not a tar archive'.repeat(100))]), { tags: ['x'] }), {
    code: 'ERR_NBOX_IMPORT',
  } as object);
  t.regex(err!.message, /^tar: /);
  t.false(err!.message.includes('\n'));
  await t.throwsAsync(importImage(store, Readable.from([Buffer.from([0x1f, 0x8b, 1, 2, 3])])), { code: 'ERR_NBOX_IMPORT' } as object);
  await t.throwsAsync(importImage(store, Readable.from([]), { changes: ['CMD ['] }), { code: 'ERR_NBOX_USAGE', message: '--change "CMD [": invalid JSON' } as object);
  await t.throwsAsync(importImage(store, Readable.from([]), { tags: ['Bad'] }), { code: 'ERR_NBOX_USAGE' } as object);
  let reads = 0;
  const source = new Readable({
    read() {
      if (reads++ === 0) this.push(Buffer.alloc(512));
      else this.destroy(new Error('connection reset'));
    },
  });
  await t.throwsAsync(importImage(store, source), { code: 'ERR_NBOX_IMPORT', message: 'reading layer: connection reset' } as object);
  t.deepEqual(await storeSnapshot(store.root.dir), before);
});
