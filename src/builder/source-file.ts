// A COPY/ADD source file as the plan saw it, and opening it again for its
// content. The context may change while a build reads it (a file swapped for a
// symlink to a host file, a directory for a link while it is walked): a source
// is found again inside the root it was planned in, and must be that very file.
import { closeSync, constants, openSync, readFileSync, readSync } from 'node:fs';
import { NboxError, SysError } from '../errors';
import type { TreeEntry } from '../image/merged-tree';
import { copyFileInRoot, openFileInRoot, openInRoot } from '../image/fs-calls';

/** FileIdentity is which file a source was when it was planned, and where to find it again. */
export interface FileIdentity {
  dev: number;
  ino: number;
  /** root is the directory (the context, a layer) the file was found in; path its in-root path. */
  root: string;
  path: string;
}

/** SourceFile is an open source: fd reads it, and path reopens that very file, until close. */
export interface SourceFile {
  fd: number;
  path: string;
  close(): void;
}

// What opening a planned source fails with when the file there is not the one planned any more.
const CHANGED = ['ENOENT', 'ENOTDIR', 'ELOOP', 'ESTALE', 'EINVAL'];

/** identity records a planned source file: its inode, and its root and in-root path (from where the tree found it). */
export function identity(entry: TreeEntry): FileIdentity {
  const root = entry.hostPath.slice(0, entry.hostPath.length - entry.path.length);
  if (entry.path === '/' || `${root}${entry.path}` !== entry.hostPath) throw new Error(`${entry.hostPath} is not ${entry.path} below a root`);
  return { dev: entry.stats.dev, ino: entry.stats.ino, root: root || '/', path: entry.path };
}

/** SourceRoots opens planned sources for reading, each root they are found in opened once for a whole copy. */
export class SourceRoots {
  private readonly roots = new Map<string, number>();

  /** open opens a source: with its identity, resolved inside its root (a symlink swapped in anywhere on the way
   * cannot lead out) and refused unless it is that same regular file, nothing else ever opened; without one (a
   * download nbox made), by path without following a symlink in its last name. */
  open(hostPath: string, seen: FileIdentity | undefined): SourceFile {
    let fd: number;
    try {
      fd = seen ? openFileInRoot(this.root(seen.root), seen.path, seen.dev, seen.ino) : openSync(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      throw changedOr(err, hostPath);
    }
    return { fd, path: `/proc/self/fd/${fd}`, close: () => closeSync(fd) };
  }

  /** copy copies a source into a new file target (never through a symlink) with mode and mtimeMs, checked as open
   * checks it, in one native call: the cost of many small files. A taken target is a SysError EEXIST of step 'copy'. */
  copy(hostPath: string, seen: FileIdentity, target: string, mode: number, mtimeMs: number): void {
    try {
      copyFileInRoot(this.root(seen.root), seen.path, seen.dev, seen.ino, target, mode, mtimeMs);
    } catch (err) {
      throw err instanceof SysError && err.step === 'copy' ? err : changedOr(err, hostPath);
    }
  }

  /** read returns a small source's whole content in one read: size is what the plan saw (a file that grew since is
   * read to its end; the plan's identity check is what matters). */
  read(hostPath: string, seen: FileIdentity | undefined, size: number): Buffer {
    const source = this.open(hostPath, seen);
    try {
      const buffer = Buffer.allocUnsafe(size + 1);
      const got = readSync(source.fd, buffer, 0, size + 1, 0);
      return got <= size ? buffer.subarray(0, got) : readFileSync(source.path);
    } finally {
      source.close();
    }
  }

  /** close closes the roots. */
  close(): void {
    for (const fd of this.roots.values()) closeSync(fd);
    this.roots.clear();
  }

  private root(path: string): number {
    let fd = this.roots.get(path);
    if (fd === undefined) {
      fd = openInRoot(path, '.');
      this.roots.set(path, fd);
    }
    return fd;
  }
}

// changedOr turns a failure to find a planned source again into the error that says so.
function changedOr(err: unknown, hostPath: string): unknown {
  const code = err instanceof SysError ? err.errnoName : (err as NodeJS.ErrnoException).code;
  if (code === undefined || !CHANGED.includes(code)) return err;
  return new NboxError('ERR_NBOX_BUILD', `${hostPath} changed while the build was reading it: it is not the file the step planned`);
}
