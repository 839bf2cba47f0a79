// Writes of `docker cp` into a container: a staged tree copied into a
// directory of its upper dir one name at a time (O_NOFOLLOW, parents copied
// up as overlayfs would), and a bound file rewritten in place in its host file.
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, ftruncateSync, futimesSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, symlinkSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';

import { NboxError, fsErrorText } from '../errors';
import { makeNode, setXattr } from '../image/fs-calls';
import { OVERLAY_OPAQUE, isOpaqueDir, type TreeEntry } from '../image/merged-tree';
import { PinnedDir } from '../image/pinned-dir';
import { deviceNumbers } from '../image/tar/devices';
import type { Bind, ContainerView } from './container-copy';

const WRITE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const COPY_CHUNK = 1 << 20;

// Writer copies a staged tree into a directory of the upper dir. As Docker's
// untar, an entry replaces what the container has at its name (a directory
// merges with a directory): nothing at or below the destination is followed.
export class Writer {
  constructor(private readonly view: ContainerView, private readonly top: PinnedDir, private readonly boundFiles: Map<string, Bind>, private readonly keepOwners: boolean) {}

  /** copyDir copies stagedDir into the destination, the directory dest of the view, at destPath in the container. */
  copyDir(stagedDir: string, dest: TreeEntry, destPath: string): void {
    this.copyChildren(stagedDir, this.top, dest.layerDirs.filter((layerDir) => !this.inUpper(layerDir)), destPath);
  }

  // copyChildren copies what stagedDir holds into dir, at dirPath in the
  // container; lowerDirs are the image's directories that overlay merges into
  // it (topmost first).
  private copyChildren(stagedDir: string, dir: PinnedDir, lowerDirs: string[], dirPath: string): void {
    for (const name of readdirSync(stagedDir).sort()) {
      const staged = join(stagedDir, name);
      const stats = lstatSync(staged);
      const uid = this.keepOwners ? stats.uid : 0;
      const gid = this.keepOwners ? stats.gid : 0;
      const boundFile = this.boundFiles.get(posix.join(dirPath, name));
      if (boundFile) {
        // A running container's bound file is the mount at its name, reached through the container's root.
        writeInPlace(boundFile.source ?? dir.pathOf(name), staged, stats, uid, gid);
        continue;
      }
      const existing = lstatOrNull(dir.pathOf(name));
      if (!stats.isDirectory()) {
        if (existing?.isDirectory()) throw new NboxError('ERR_NBOX_COPY', `cannot overwrite directory "${name}" with non-directory "${name}"`);
        if (existing) unlinkSync(dir.pathOf(name));
        this.copyNonDirectory(staged, stats, dir, name, uid, gid);
        continue;
      }
      let below = lowerChildDirs(lowerDirs, name);
      if (existing?.isDirectory()) {
        if (isOpaqueDir(dir.pathOf(name))) below = [];
      } else {
        if (existing) unlinkSync(dir.pathOf(name));
        mkdirSync(dir.pathOf(name), 0o700);
        // The container deleted or replaced the image's directory: the new one hides it whole.
        if (existing && below.length > 0) setXattr(dir.pathOf(name), OVERLAY_OPAQUE, Buffer.from('y'));
        if (existing) below = [];
      }
      const child = dir.child(name);
      try {
        this.copyChildren(staged, child, below, posix.join(dirPath, name));
        setOwnerModeTimes(child.fd, uid, gid, stats.mode, stats);
      } finally {
        child.close();
      }
    }
  }

  private copyNonDirectory(staged: string, stats: Stats, dir: PinnedDir, name: string, uid: number, gid: number): void {
    const target = dir.pathOf(name);
    if (stats.isSymbolicLink() || !stats.isFile()) {
      // symlink and mknod make the entry at the name itself, following nothing.
      if (stats.isSymbolicLink()) symlinkSync(readlinkSync(staged), target);
      else makeNode(target, stats.mode, ...deviceNumbers(stats.rdev));
      lchownSync(target, uid, gid);
      lutimesSync(target, stats.atime, stats.mtime);
      return;
    }
    const out = openSync(target, WRITE_NEW, 0o600);
    try {
      copyContent(staged, out);
      setOwnerModeTimes(out, uid, gid, stats.mode, stats);
    } finally {
      closeSync(out);
    }
  }

  private inUpper(layerDir: string): boolean {
    return layerDir === this.view.upper || layerDir.startsWith(`${this.view.upper}/`);
  }
}

const WRITE_IN_PLACE = constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

// writeInPlace writes a staged file into a bound host file: truncated and rewritten, never unlinked or
// renamed, so the mount keeps the inode. Non-blocking, as a FIFO there must not hang the copy.
function writeInPlace(hostPath: string, staged: string, stats: Stats, uid: number, gid: number): void {
  let out: number;
  try {
    out = openSync(hostPath, WRITE_IN_PLACE);
  } catch (err) {
    throw new NboxError('ERR_NBOX_COPY', `open ${hostPath}: ${fsErrorText(err)}`);
  }
  try {
    if (!fstatSync(out).isFile()) throw new NboxError('ERR_NBOX_COPY', `open ${hostPath}: not a regular file`);
    ftruncateSync(out, 0);
    copyContent(staged, out);
    setOwnerModeTimes(out, uid, gid, stats.mode, stats);
  } finally {
    closeSync(out);
  }
}

// lowerChildDirs is what overlay merges at name below the image's directories
// lowerDirs: the topmost decides (a whiteout or a non-directory hides the
// rest), then directories down to an opaque one. The image's layers are
// nbox's own, unchanging directories: plain paths are safe there.
function lowerChildDirs(lowerDirs: string[], name: string): string[] {
  const dirs: string[] = [];
  for (const lowerDir of lowerDirs) {
    const path = join(lowerDir, name);
    const stats = lstatOrNull(path);
    if (!stats) continue;
    if (!stats.isDirectory()) return dirs;
    dirs.push(path);
    if (isOpaqueDir(path)) break;
  }
  return dirs;
}

function copyContent(source: string, out: number): void {
  const input = openSync(source, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buffer = Buffer.allocUnsafe(COPY_CHUNK);
    for (;;) {
      const n = readSync(input, buffer, 0, buffer.length, null);
      if (n === 0) break;
      for (let done = 0; done < n; ) done += writeSync(out, buffer, done, n - done);
    }
  } finally {
    closeSync(input);
  }
}

// Owner first: chown clears the setuid and setgid bits that the mode then sets.
export function setOwnerModeTimes(fd: number, uid: number, gid: number, mode: number, times: Stats): void {
  fchownSync(fd, uid, gid);
  fchmodSync(fd, mode & 0o7777);
  futimesSync(fd, times.atime, times.mtime);
}

export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
