import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { unpackLayer } from '../../../../src/image/tar/unpack';
import { TarSplitRecorder } from '../../../../src/image/tar/split-record';
import { replayTar } from '../../../../src/image/tar/split-replay';
import { sha256sum, tempDir } from '../helpers';

const longName = `${'deep/'.repeat(30)}file-with-a-name-longer-than-a-hundred-bytes.txt`;

async function fixtureTree(dir: string): Promise<void> {
  const files: Record<string, string | Buffer> = {
    'etc/motd': 'hello\n',
    'empty': '',
    [longName]: 'long\n',
    'big.bin': Buffer.alloc(3 << 20, 7),
    'odd': 'x'.repeat(513),
    'ünïcode-名前': 'utf8 name\n',
  };
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), content);
  }
  await fs.symlink('etc/motd', path.join(dir, 'link'));
  await fs.link(path.join(dir, 'etc/motd'), path.join(dir, 'hard'));
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

for (const format of ['gnu', 'pax', 'ustar', 'posix']) {
  test(`a ${format} tar is replayed byte for byte from its split and the unpacked files`, async (t) => {
    const dir = await tempDir(t);
    await fixtureTree(path.join(dir, 'src'));
    const tarPath = path.join(dir, 'layer.tar');
    execFileSync('tar', ['-C', path.join(dir, 'src'), `--format=${format}`, '-cf', tarPath, '.']);
    await fs.mkdir(path.join(dir, 'out'));
    const { split, diffId } = await unpackLayer(Readable.from([await fs.readFile(tarPath)]), path.join(dir, 'out'));
    t.is(diffId, sha256sum(tarPath));
    t.true(split!.length < 4096, 'file contents are not kept in the split');
    t.true((await collect(replayTar(split!, path.join(dir, 'out'), diffId))).equals(await fs.readFile(tarPath)));
  });
}

test('the recorder sees whiteouts and keeps bytes fed in odd-sized chunks', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'src/a'), { recursive: true });
  await fs.writeFile(path.join(dir, 'src/a/.wh.gone'), '');
  await fs.writeFile(path.join(dir, 'src/a/.wh..wh..opq'), '');
  await fs.writeFile(path.join(dir, 'src/a/kept'), 'k'.repeat(1000));
  const tar = execFileSync('tar', ['-C', path.join(dir, 'src'), '-cf', '-', '.']);
  const recorder = new TarSplitRecorder();
  for (let offset = 0; offset < tar.length; offset += 97) recorder.feed(tar.subarray(offset, offset + 97));
  const { split, whiteouts } = (await recorder.finish());
  t.deepEqual(whiteouts.sort(), ['a/.wh..wh..opq', 'a/.wh.gone']);
  await fs.rm(path.join(dir, 'src/a/.wh.gone'));
  await fs.rm(path.join(dir, 'src/a/.wh..wh..opq'));
  t.true((await collect(replayTar(split!, path.join(dir, 'src'), sha256Of(tar)))).equals(tar));
});

test('a replay of a changed layer fails instead of giving a tar with another digest', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'src'));
  await fs.writeFile(path.join(dir, 'src/f'), 'before');
  const tar = execFileSync('tar', ['-C', path.join(dir, 'src'), '-cf', '-', '.']);
  const recorder = new TarSplitRecorder();
  recorder.feed(tar);
  await fs.writeFile(path.join(dir, 'src/f'), 'after!');
  await t.throwsAsync(collect(replayTar((await recorder.finish()).split!, path.join(dir, 'src'), sha256Of(tar))), { message: /no longer matches/ });
});

function sha256Of(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

test('bytes after the end-of-archive block stay raw, and a path with content twice makes the tar unreplayable', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'src'));
  await fs.writeFile(path.join(dir, 'src/a'), 'first');
  const tar = execFileSync('tar', ['-C', path.join(dir, 'src'), '-cf', '-', 'a']);
  // A header-like block after the end: GNU tar never reads it, so neither may the recorder.
  const withTrailer = Buffer.concat([tar, tar.subarray(0, 512)]);
  const recorder = new TarSplitRecorder();
  recorder.feed(withTrailer);
  const { split } = (await recorder.finish());
  t.true((await collect(replayTar(split!, path.join(dir, 'src'), sha256Of(withTrailer)))).equals(withTrailer));

  const twice = Buffer.concat([tar.subarray(0, 1024), tar]);
  const again = new TarSplitRecorder();
  again.feed(twice);
  t.is((await again.finish()).split, undefined);
});
