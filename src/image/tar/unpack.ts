// Unpacking a layer tar (plain or compressed) into a directory with GNU tar,
// hashing the uncompressed bytes and recording its tar-split on the way: the
// diffID comes out of the same pass.
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, lutimesSync, unlinkSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { NboxError, SysError } from '../../errors';
import { addon } from '../../sys/addon';
import { OVERLAY_OPAQUE } from '../merged-tree';
import { uncompressed } from './compression';
import { extractWithGnuTar, type TarOutcome } from './gnu-tar';
import { TarSplitRecorder } from './split-record';

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
const OPAQUE_MARKER = '.wh..wh..opq';

/** unpackLayer extracts a (possibly compressed) tar stream into the existing directory dir,
 * turning OCI `.wh.` entries into overlay whiteouts so dir can serve as a lower dir. */
export async function unpackLayer(tarStream: Readable, dir: string): Promise<UnpackedTar> {
  const hash = createHash('sha256');
  const recorder = new TarSplitRecorder();
  let size = 0;
  // The diffID covers every byte (padding after the end-of-archive blocks included).
  const see = (chunk: Buffer) => {
    hash.update(chunk);
    recorder.feed(chunk);
    size += chunk.length;
  };
  let outcome: TarOutcome;
  try {
    outcome = await extractWithGnuTar((await uncompressed(tarStream)).stages, dir, see);
  } catch (err) {
    outcome = { failed: 'input', error: err };
  }
  if (outcome.failed === 'input') {
    throw outcome.error instanceof NboxError ? outcome.error : importError(`reading layer: ${(outcome.error as Error).message}`, outcome.error);
  }
  if (outcome.failed === 'spawn') throw importError(`cannot run tar: ${(outcome.error as Error).message}`, outcome.error);
  if (outcome.failed === 'tar') throw importError(outcome.line);
  const { split, whiteouts } = await recorder.finish();
  for (const whiteout of whiteouts) toOverlayWhiteout(dir, whiteout);
  return { diffId: `sha256:${hash.digest('hex')}`, size, split };
}

// toOverlayWhiteout replaces an unpacked `.wh.NAME` file by the kernel's
// whiteout for NAME (a 0:0 char device), and `.wh..wh..opq` by the opaque
// xattr on its directory; the directory keeps the mtime the tar gave it.
// The entry's name comes from the tar's headers, not from tar: its parent is
// resolved inside the layer (openat2 RESOLVE_IN_ROOT) and every call goes
// through that fd, so no name can reach a path outside dir.
function toOverlayWhiteout(dir: string, entry: string): void {
  const names = entry.split('/');
  if (names.some((name) => name === '' || name === '.' || name === '..')) throw importError(`invalid whiteout path in layer: ${JSON.stringify(entry)}`);
  const name = names.pop()!;
  const parentFd = addon().openInRoot(dir, names.length > 0 ? names.join('/') : '.');
  try {
    const parent = `/proc/self/fd/${parentFd}/.`;
    const marker = `/proc/self/fd/${parentFd}/${name}`;
    if (!lstatSync(marker, { throwIfNoEntry: false })?.isFile()) throw importError(`whiteout ${entry} in layer is not a regular file`);
    const parentStats = lstatSync(parent);
    unlinkSync(marker);
    if (name === OPAQUE_MARKER) {
      addon().lsetxattr(parent, OVERLAY_OPAQUE, Buffer.from('y'));
    } else {
      try {
        addon().mknod(`/proc/self/fd/${parentFd}/${name.slice('.wh.'.length)}`, S_IFCHR, 0, 0);
      } catch (err) {
        // The layer also holds the name itself: the entry wins over its own whiteout.
        if (!(err instanceof SysError && err.errnoName === 'EEXIST')) throw err;
      }
    }
    lutimesSync(parent, parentStats.atime, parentStats.mtime);
  } finally {
    closeSync(parentFd);
  }
}

function importError(message: string, cause?: unknown): NboxError {
  return new NboxError('ERR_NBOX_IMPORT', message.replace(/\s*\n[\s\S]*$/, ''), { cause });
}
