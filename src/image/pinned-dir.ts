// Walking a directory tree that a running container may change under us: each
// directory is opened below the fd of its parent (through /proc/self/fd, so
// the kernel looks up one name in the very directory we hold) with
// O_NOFOLLOW, so a directory swapped for a symlink mid-walk fails the open
// instead of leading the walk onto the host.
import { closeSync, constants, lstatSync, openSync, readdirSync, type Stats } from 'node:fs';

const OPEN_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** PinnedDir is an open directory: its entries are read through the fd, never a path string. */
export class PinnedDir {
  private constructor(readonly fd: number) {}

  /** open opens a host directory that is ours (a layer dir, an upper dir) without following a symlink at its end. */
  static open(path: string): PinnedDir {
    return new PinnedDir(openSync(path, OPEN_DIR));
  }

  /** child opens the directory name inside this one; a symlink there is refused (ELOOP/ENOTDIR). */
  child(name: string): PinnedDir {
    return new PinnedDir(openSync(this.pathOf(name), OPEN_DIR));
  }

  /** names lists the entries, in byte order. */
  names(): string[] {
    return readdirSync(this.pathOf()).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  /** lstat reads an entry without following it. */
  lstat(name: string): Stats {
    return lstatSync(this.pathOf(name));
  }

  /** pathOf is a path the kernel resolves through this fd: the directory itself, or one name in it. */
  pathOf(name?: string): string {
    return name === undefined ? `/proc/self/fd/${this.fd}` : `/proc/self/fd/${this.fd}/${name}`;
  }

  close(): void {
    closeSync(this.fd);
  }
}
