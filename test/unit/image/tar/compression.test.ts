import test from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { archiveCompression } from '../../../../src/image/tar/archive';
import { detectCompression, uncompressed, type Compression } from '../../../../src/image/tar/compression';
import { tempDir } from '../helpers';

const PROGRAMS: Array<[Exclude<Compression, 'none'>, string]> = [['gzip', 'gzip'], ['bzip2', 'bzip2'], ['xz', 'xz'], ['zstd', 'zstd']];

async function drain(input: Readable): Promise<Buffer> {
  const { stages } = await uncompressed(input);
  const parts: Buffer[] = [];
  await pipeline([...stages, new Writable({ write: (chunk: Buffer, _e, done) => (parts.push(chunk), done()) })]);
  return Buffer.concat(parts);
}

// Small chunks: the sniffer must gather its magic bytes across them.
function inPieces(bytes: Buffer): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 3) pieces.push(bytes.subarray(at, at + 3));
  return Readable.from(pieces);
}

for (const [compression, program] of PROGRAMS) {
  test(`${compression} is told by its magic and undone`, async (t) => {
    const data = Buffer.concat([randomBytes(100_000), Buffer.alloc(200_000, 'a')]);
    const packed = execFileSync(program, ['-c'], { input: data, maxBuffer: 16 << 20 });
    t.is(detectCompression(packed), compression);
    t.true((await drain(inPieces(packed))).equals(data));
  });
}

test('bytes without a known magic pass as they are', async (t) => {
  const data = Buffer.from('plain tar bytes, or anything else');
  t.is(detectCompression(data), 'none');
  t.is(detectCompression(Buffer.alloc(0)), 'none');
  t.true((await drain(inPieces(data))).equals(data));
});

test('a plain tar whose first member is named like a magic (BZh…) is no compression', async (t) => {
  const dir = await tempDir(t);
  await fs.writeFile(path.join(dir, 'BZh91AY&SY'), 'not bzip2\n');
  const tar = execFileSync('tar', ['-C', dir, '-cf', '-', 'BZh91AY&SY']);
  t.is(detectCompression(tar), 'none');
  t.true((await drain(inPieces(tar))).equals(tar));
});

test('a truncated stream fails with the decompressor\'s complaint', async (t) => {
  const packed = execFileSync('xz', ['-c'], { input: randomBytes(100_000) });
  await t.throwsAsync(drain(Readable.from([packed.subarray(0, packed.length / 2)])), { message: /^xz: / });
  const gzipped = execFileSync('gzip', ['-c'], { input: randomBytes(100_000) });
  await t.throwsAsync(drain(Readable.from([gzipped.subarray(0, gzipped.length / 2)])), { message: /unexpected end of file/ });
});

test('ADD unpacks a file only when it is a tar, compressed or not', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'src'));
  await fs.writeFile(path.join(dir, 'src/inner.txt'), 'inside\n');
  execFileSync('tar', ['-C', path.join(dir, 'src'), '-cf', path.join(dir, 'plain.tar'), 'inner.txt']);
  t.is(await archiveCompression(path.join(dir, 'plain.tar')), 'none');
  for (const [compression, program] of PROGRAMS) {
    const file = path.join(dir, `bundle.${program}`);
    await fs.writeFile(file, execFileSync(program, ['-c', path.join(dir, 'plain.tar')]));
    t.is(await archiveCompression(file), compression);
    const notTar = path.join(dir, `text.${program}`);
    await fs.writeFile(notTar, execFileSync(program, ['-c'], { input: 'just text\n'.repeat(1000) }));
    t.is(await archiveCompression(notTar), null, `${compression} of a text file is not an archive`);
  }
  await fs.writeFile(path.join(dir, 'text'), 'not an archive');
  t.is(await archiveCompression(path.join(dir, 'text')), null);
});
