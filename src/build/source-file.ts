// A COPY/ADD source file as the plan saw it, and opening it again for its
// content. The context may change while a build reads it (a file swapped for a
// symlink to a host file, a directory for a link while it is walked): a source
// is found again inside the root it was planned in, and must be that very file.
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { NboxError, SysError } from '../errors';
import type { TreeEntry } from '../image/merged-tree';
import { addon } from '../sys/addon';

/** FileIdentity is which file a source was when it was planned, and where to find it again. */
export interface FileIdentity {
  dev: number;
  ino: number;
  /** root is the directory (the context, a layer) the file was found in; path its in-root path. */
  root: string;
  path: string;
}

/** SourceFile is an open source: path reopens the very file until close. */
export interface SourceFile {
  path: string;
  close(): void;
}

// O_PATH (Linux): an fd that names a file without opening it, so a device or FIFO swapped in is never opened.
const O_PATH = 0o10000000;

/** identity records a planned source file: its inode, and its root and in-root path (from where the tree found it). */
export function identity(entry: TreeEntry): FileIdentity {
  const root = entry.hostPath.slice(0, entry.hostPath.length - entry.path.length);
  if (entry.path === '/' || `${root}${entry.path}` !== entry.hostPath) throw new Error(`${entry.hostPath} is not ${entry.path} below a root`);
  return { dev: entry.stats.dev, ino: entry.stats.ino, root: root || '/', path: entry.path };
}

/** openSource opens a planned source: with its identity, resolved inside its root (a symlink swapped in anywhere
 * on the way cannot lead out) and refused unless it is the same regular file; without one (a download nbox made),
 * by path without following a symlink in its last name. */
export function openSource(hostPath: string, seen: FileIdentity | undefined): SourceFile {
  const changed = () => new NboxError('ERR_NBOX_BUILD', `${hostPath} changed while the build was reading it: it is not the file the step planned`);
  let fd: number;
  try {
    fd = seen ? addon().openInRoot(seen.root, seen.path) : openSync(hostPath, O_PATH | constants.O_NOFOLLOW);
  } catch (err) {
    if (err instanceof SysError ? ['ENOENT', 'ENOTDIR', 'ELOOP'].includes(err.errnoName) : isMissing(err)) throw changed();
    throw err;
  }
  const stats = fstatSync(fd);
  if (!stats.isFile() || (seen && (stats.dev !== seen.dev || stats.ino !== seen.ino))) {
    closeSync(fd);
    throw changed();
  }
  return { path: `/proc/self/fd/${fd}`, close: () => closeSync(fd) };
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
