// Odd but valid tars through unpack and tar-split replay: GNU sparse files (old GNU
// headers with extension blocks, and PAX 1.0), base-256 sizes, GNU long-name L and
// long-link K records, PAX linkpath, hard links to earlier members and a member given
// twice. Each is made here with GNU tar (and patched where no tool writes the form);
// replay must give the tar back byte for byte, or the split must say it cannot.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { unpackLayer, type UnpackedTar } from '../../../../src/image/tar/unpack';
import { replayTar } from '../../../../src/image/tar/split-replay';
import { sha256sum, tempDir } from '../helpers';

const LONG = `${'long-directory-name/'.repeat(8)}target-file`;

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

// sparseFile writes `regions` 4 KiB data regions with 64 KiB holes between them; tail,
// if given, ends the last region.
async function sparseFile(file: string, regions: number, tail: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  const handle = await fs.open(file, 'w');
  const size = regions * 68 * 1024;
  for (let n = 0; n < regions; n++) {
    const region = Buffer.alloc(4096, 0x41 + n);
    if (n === regions - 1) tail.copy(region, region.length - tail.length);
    await handle.write(region, 0, region.length, n * 68 * 1024 + 64 * 1024);
  }
  await handle.truncate(size);
  await handle.close();
  return fs.readFile(file);
}

// unpackAndReplay unpacks tar into <dir>/out and checks the diffID against sha256sum.
async function unpack(t: ExecutionContext, dir: string, tar: Buffer): Promise<{ out: string; unpacked: UnpackedTar }> {
  const tarPath = path.join(dir, 'layer.tar');
  await fs.writeFile(tarPath, tar);
  const out = path.join(dir, 'out');
  await fs.mkdir(out);
  const unpacked = await unpackLayer(Readable.from([tar]), out);
  t.is(unpacked.diffId, sha256sum(tarPath));
  t.is(unpacked.size, tar.length);
  return { out, unpacked };
}

async function replaysExactly(t: ExecutionContext, dir: string, tar: Buffer): Promise<string> {
  const { out, unpacked } = await unpack(t, dir, tar);
  t.not(unpacked.split, undefined);
  t.true((await collect(replayTar(unpacked.split!, out, unpacked.diffId))).equals(tar));
  return out;
}

// gnuTar runs GNU tar in src and returns the archive it writes to stdout.
function gnuTar(src: string, args: string[]): Buffer {
  return execFileSync('tar', ['-C', src, '-cf', '-', ...args], { maxBuffer: 64 << 20 });
}

for (const [label, args, regions] of [
  ['an old GNU sparse header', ['--format=gnu'], 2],
  ['an old GNU sparse header with extension blocks', ['--format=gnu'], 30],
  ['PAX sparse 0.0', ['--format=posix', '--sparse-version=0.0'], 5],
  ['PAX sparse 0.1', ['--format=posix', '--sparse-version=0.1'], 5],
  ['PAX sparse 1.0', ['--format=posix', '--sparse-version=1.0'], 5],
] as const) {
  test(`a sparse file in ${label} unpacks whole and replays, and so does the member after it`, async (t) => {
    const dir = await tempDir(t);
    await fs.mkdir(path.join(dir, 'src'));
    const content = await sparseFile(path.join(dir, 'src/sparse'), regions);
    await fs.writeFile(path.join(dir, 'src/after'), 'after\n');
    const tar = gnuTar(path.join(dir, 'src'), [...args, '--sparse', 'sparse', 'after']);
    // Old GNU headers hold four regions; more take extension blocks (isextended, offset 482).
    if (args[0] === '--format=gnu') t.is(tar[482], regions > 4 ? 1 : 0);
    const out = await replaysExactly(t, dir, tar);
    t.true((await fs.readFile(path.join(out, 'sparse'))).equals(content));
    t.is(await fs.readFile(path.join(out, 'after'), 'utf8'), 'after\n');
  });
}

test('sparse data that looks like a tar header is not read as one after GNU sparse extension blocks', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'src'));
  await fs.writeFile(path.join(dir, 'src/ghost'), 'g'.repeat(600));
  const ghostHeader = gnuTar(path.join(dir, 'src'), ['--format=gnu', 'ghost']).subarray(0, 512);
  await fs.rm(path.join(dir, 'src/ghost'));
  // The extension blocks come before the data: a recorder that counts them as data ends it
  // early, and would take the fake header at its end for a member named ghost.
  const content = await sparseFile(path.join(dir, 'src/sparse'), 30, ghostHeader);
  const tar = gnuTar(path.join(dir, 'src'), ['--format=gnu', '--sparse', 'sparse']);
  t.is(tar[482], 1);
  const out = await replaysExactly(t, dir, tar);
  t.true((await fs.readFile(path.join(out, 'sparse'))).equals(content));
  await t.throwsAsync(fs.stat(path.join(out, 'ghost')), { code: 'ENOENT' });
});

// withBase256Size rewrites the size field of the header at offset as GNU's base-256
// number (what GNU tar writes for 8 GiB and more) and fixes the header checksum.
function withBase256Size(tar: Buffer, offset: number): Buffer {
  const out = Buffer.from(tar);
  const header = out.subarray(offset, offset + 512);
  const size = parseInt(header.toString('latin1', 124, 136).replace(/\0.*$/, '').trim(), 8);
  header.fill(0, 124, 136);
  header[124] = 0x80;
  header.writeUIntBE(size, 130, 6);
  header.fill(0x20, 148, 156);
  const sum = header.reduce((total, byte) => total + byte, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return out;
}

test('a base-256 size field unpacks and replays', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'src'));
  await fs.writeFile(path.join(dir, 'src/a'), 'x'.repeat(700));
  await fs.writeFile(path.join(dir, 'src/b'), 'after\n');
  const tar = withBase256Size(gnuTar(path.join(dir, 'src'), ['--format=gnu', 'a', 'b']), 0);
  t.is(tar[124], 0x80);
  const out = await replaysExactly(t, dir, tar);
  t.is(await fs.readFile(path.join(out, 'a'), 'utf8'), 'x'.repeat(700));
  t.is(await fs.readFile(path.join(out, 'b'), 'utf8'), 'after\n');
});

for (const format of ['gnu', 'posix'] as const) {
  const records = format === 'gnu' ? 'L and K records' : 'PAX path and linkpath';
  test(`long names and link targets in ${records} unpack and replay, hard links to earlier members included`, async (t) => {
    const dir = await tempDir(t);
    const src = path.join(dir, 'src');
    await fs.mkdir(path.dirname(path.join(src, LONG)), { recursive: true });
    await fs.writeFile(path.join(src, LONG), 'target\n');
    await fs.symlink(LONG, path.join(src, 'symlink'));
    await fs.link(path.join(src, LONG), path.join(src, 'hardlink'));
    await fs.link(path.join(src, LONG), path.join(src, `${LONG}-second`));
    const tar = gnuTar(src, [`--format=${format}`, LONG.split('/')[0], 'symlink', 'hardlink']);
    const typeFlags = new Set<string>();
    for (let offset = 0; offset + 512 <= tar.length; offset += 512) typeFlags.add(String.fromCharCode(tar[offset + 156]));
    if (format === 'gnu') t.true(typeFlags.has('L') && typeFlags.has('K'), `type flags ${[...typeFlags].join('')}`);
    else t.true(tar.includes(Buffer.from(` linkpath=${LONG}\n`)));
    const out = await replaysExactly(t, dir, tar);
    t.is(await fs.readlink(path.join(out, 'symlink')), LONG);
    const inode = (await fs.stat(path.join(out, LONG))).ino;
    t.is((await fs.stat(path.join(out, 'hardlink'))).ino, inode);
    t.is((await fs.stat(path.join(out, `${LONG}-second`))).ino, inode);
  });
}

test('a member given twice unpacks as its last copy and is marked unreplayable', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'src'));
  await fs.writeFile(path.join(dir, 'src/a'), 'first\n');
  const tarPath = path.join(dir, 'twice.tar');
  execFileSync('tar', ['-C', path.join(dir, 'src'), '-cf', tarPath, 'a']);
  await fs.writeFile(path.join(dir, 'src/a'), 'second copy\n');
  execFileSync('tar', ['-C', path.join(dir, 'src'), '-rf', tarPath, 'a']);
  const { out, unpacked } = await unpack(t, dir, await fs.readFile(tarPath));
  t.is(await fs.readFile(path.join(out, 'a'), 'utf8'), 'second copy\n');
  t.is(unpacked.split, undefined);
});
