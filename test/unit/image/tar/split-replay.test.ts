// Replay reads files of a layer directory that a hostile tar made: where the split
// expects a file, the layer may hold a symlink to a host file (a member given as a
// file and again as a symlink), a FIFO, or a parent that is a symlink. Replay must
// refuse before a byte of a host file reaches the tar it gives back.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { unpackLayer } from '../../../../src/image/tar/unpack';
import { replayTar } from '../../../../src/image/tar/split-replay';
import { tempDir } from '../helpers';

// The secret has the size of the file it stands in for, so a replay that read it would see no short file.
const ORIGINAL = 'harmless-content\n';
const SECRET = 'HOST-SECRET-1234\n';

// replay collects what replayTar yields until it fails, and the failure.
async function replay(split: Buffer, dir: string, diffId: string): Promise<{ bytes: Buffer; error: Error | undefined }> {
  const parts: Buffer[] = [];
  try {
    for await (const chunk of replayTar(split, dir, diffId)) parts.push(chunk);
    return { bytes: Buffer.concat(parts), error: undefined };
  } catch (err) {
    return { bytes: Buffer.concat(parts), error: err as Error };
  }
}

// unpacked makes a layer holding etc/data through unpack, and a host file holding the secret beside it.
async function unpacked(t: ExecutionContext): Promise<{ dir: string; out: string; secret: string; split: Buffer; diffId: string }> {
  const dir = await tempDir(t);
  const secret = path.join(dir, 'host/secret');
  await fs.mkdir(path.join(dir, 'host'));
  await fs.writeFile(path.join(dir, 'host/data'), SECRET);
  await fs.writeFile(secret, SECRET);
  await fs.mkdir(path.join(dir, 'src/etc'), { recursive: true });
  await fs.writeFile(path.join(dir, 'src/etc/data'), ORIGINAL);
  const tar = execFileSync('tar', ['-C', path.join(dir, 'src'), '-cf', '-', 'etc']);
  const out = path.join(dir, 'out');
  await fs.mkdir(out);
  const { split, diffId } = await unpackLayer(Readable.from([tar]), out);
  t.truthy(split);
  t.true((await replay(split!, out, diffId)).bytes.equals(tar), 'the untouched layer replays');
  return { dir, out, secret, split: split!, diffId };
}

test('a member given as a file and then as a symlink to a host file is not read through the symlink', async (t) => {
  const dir = await tempDir(t);
  const secret = path.join(dir, 'secret');
  await fs.writeFile(secret, SECRET);
  await fs.mkdir(path.join(dir, 'file'));
  await fs.mkdir(path.join(dir, 'link'));
  await fs.writeFile(path.join(dir, 'file/x'), ORIGINAL);
  await fs.symlink(secret, path.join(dir, 'link/x'));
  const tarPath = path.join(dir, 'layer.tar');
  execFileSync('tar', ['-C', path.join(dir, 'file'), '-cf', tarPath, 'x']);
  execFileSync('tar', ['-C', path.join(dir, 'link'), '-rf', tarPath, 'x']);
  const out = path.join(dir, 'out');
  await fs.mkdir(out);
  const { split, diffId } = await unpackLayer(Readable.from([await fs.readFile(tarPath)]), out);
  t.is(await fs.readlink(path.join(out, 'x')), secret, 'GNU tar leaves the symlink where the split expects the file');

  const { bytes, error } = await replay(split!, out, diffId);
  t.regex(error?.message ?? '', /x cannot be opened: ELOOP/);
  t.false(bytes.includes(SECRET), 'no byte of the host file is replayed');
});

test('a recorded file swapped for a symlink to a host file is refused', async (t) => {
  const { out, secret, split, diffId } = await unpacked(t);
  await fs.rm(path.join(out, 'etc/data'));
  await fs.symlink(secret, path.join(out, 'etc/data'));
  const { bytes, error } = await replay(split, out, diffId);
  t.regex(error?.message ?? '', /etc\/data cannot be opened: ELOOP/);
  t.false(bytes.includes(SECRET));
});

test('a parent directory swapped for a symlink to a host directory is not followed out of the layer', async (t) => {
  const { dir, out, split, diffId } = await unpacked(t);
  await fs.rm(path.join(out, 'etc'), { recursive: true });
  await fs.symlink(path.join(dir, 'host'), path.join(out, 'etc'));
  const { bytes, error } = await replay(split, out, diffId);
  t.regex(error?.message ?? '', /etc\/data cannot be opened/);
  t.false(bytes.includes(SECRET));
});

test('a recorded file swapped for a FIFO is refused without waiting for a writer', async (t) => {
  const { out, split, diffId } = await unpacked(t);
  await fs.rm(path.join(out, 'etc/data'));
  execFileSync('mkfifo', [path.join(out, 'etc/data')]);
  const { error } = await replay(split, out, diffId);
  t.regex(error?.message ?? '', /etc\/data is not a regular file/);
});
