// Unpacking a layer tar (plain or gzip) into a directory with GNU tar, hashing
// the uncompressed bytes on the way: the diffID comes out of the same pass.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { lstatSync, lutimesSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NboxError, SysError, isErrno } from '../errors';
import { addon } from '../sys/addon';
import { OVERLAY_OPAQUE } from './merged-tree';
import { peekStream } from './stream-head';
import { tarErrorLine } from './tar-error';
import { TarSplitRecorder } from './tar-split';

/** LayerDigest is a layer's identity: sha256 of its uncompressed tar, and that tar's size in bytes. */
export interface LayerDigest {
  diffId: string;
  size: number;
}

/** UnpackedTar is an unpacked layer's digest plus the tar-split that gives its exact tar back. */
export interface UnpackedTar extends LayerDigest {
  /** The tar-split, or undefined when the tar cannot be replayed (see RecordedTar). */
  split: Buffer | undefined;
}

const S_IFCHR = 0o020000;
// zlib's default 16 KiB output chunks triple the cost of gunzip on a large layer.
const GUNZIP_CHUNK = 1 << 20;
const OPAQUE_MARKER = '.wh..wh..opq';

/** unpackLayer extracts a (possibly gzipped) tar stream into the existing directory dir,
 * turning OCI `.wh.` entries into overlay whiteouts so dir can serve as a lower dir. */
export async function unpackLayer(tarStream: Readable, dir: string): Promise<UnpackedTar> {
  const tar = spawn('tar', tarArguments(dir), { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  tar.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve, reject) => {
    tar.once('error', reject);
    tar.once('close', (code) => resolve(code));
  });

  const hash = createHash('sha256');
  const recorder = new TarSplitRecorder();
  let size = 0;
  // GNU tar stops reading at the end-of-archive blocks, but the diffID covers
  // every byte (padding included), so the rest is hashed after tar closes its end.
  let tarGone = false;
  tar.stdin.on('error', () => (tarGone = true));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      recorder.feed(chunk);
      size += chunk.length;
      if (tarGone) return done();
      tar.stdin.write(chunk, (err) => done(err && !isErrno(err, 'EPIPE') ? err : undefined));
    },
    final(done) {
      tar.stdin.end();
      done();
    },
  });
  // Whichever fails first is reported: tar's complaint, or the input's error
  // (a broken gzip stream, a dropped connection), after which tar is stopped.
  let firstFailure: 'tar' | 'input' | undefined;
  const tarFailed = () => {
    firstFailure ??= 'tar';
    sink.destroy();
  };
  exited.then((code) => code !== 0 && tarFailed(), tarFailed);
  const piping = uncompressed(tarStream)
    .then((stages) => pipeline([...stages, sink]))
    .catch((err: unknown) => {
      firstFailure ??= 'input';
      tar.kill();
      throw err;
    });

  const [piped, exit] = await Promise.allSettled([piping, exited]);
  if (piped.status === 'rejected' && firstFailure === 'input') {
    throw piped.reason instanceof NboxError ? piped.reason : importError(`reading layer: ${(piped.reason as Error).message}`, piped.reason);
  }
  if (exit.status === 'rejected') throw importError(`cannot run tar: ${(exit.reason as Error).message}`, exit.reason);
  if (exit.value !== 0) {
    throw importError(tarErrorLine(stderr, exit.value));
  }
  const { split, whiteouts } = await recorder.finish();
  for (const whiteout of whiteouts) toOverlayWhiteout(dir, whiteout);
  return { diffId: `sha256:${hash.digest('hex')}`, size, split };
}

// toOverlayWhiteout replaces an unpacked `.wh.NAME` file by the kernel's
// whiteout for NAME (a 0:0 char device), and `.wh..wh..opq` by the opaque
// xattr on its directory; the directory keeps the mtime the tar gave it.
function toOverlayWhiteout(dir: string, entry: string): void {
  const marker = join(dir, entry);
  const parent = dirname(marker);
  const name = entry.slice(entry.lastIndexOf('/') + 1);
  const parentStats = lstatSync(parent);
  unlinkSync(marker);
  if (name === OPAQUE_MARKER) {
    addon().lsetxattr(parent, OVERLAY_OPAQUE, Buffer.from('y'));
  } else {
    try {
      addon().mknod(join(parent, name.slice('.wh.'.length)), S_IFCHR, 0, 0);
    } catch (err) {
      // The layer also holds the name itself: the entry wins over its own whiteout.
      if (!(err instanceof SysError && err.errnoName === 'EEXIST')) throw err;
    }
  }
  lutimesSync(parent, parentStats.atime, parentStats.mtime);
}

function tarArguments(dir: string): string[] {
  // Ownership can only be restored by root; an unprivileged unpack (tests,
  // rootless use) keeps the caller's uid instead of failing on chown.
  const owner = process.getuid?.() === 0 ? ['--same-owner'] : ['--no-same-owner'];
  return ['-x', '--numeric-owner', '--same-permissions', ...owner, '--xattrs', '--xattrs-include=*', '-f', '-', '-C', dir];
}

// uncompressed peeks at the first bytes and adds a gunzip stage when they are gzip's magic.
async function uncompressed(input: Readable): Promise<Readable[]> {
  const { head, replay } = await peekStream(input, 2);
  return head[0] === 0x1f && head[1] === 0x8b ? [replay, createGunzip({ chunkSize: GUNZIP_CHUNK })] : [replay];
}

function importError(message: string, cause?: unknown): NboxError {
  return new NboxError('ERR_NBOX_IMPORT', message.replace(/\s*\n[\s\S]*$/, ''), { cause });
}
