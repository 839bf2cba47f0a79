// The file system calls Node's fs lacks, as the builder may use them on
// layers, stage roots and build contexts: opens resolved inside a root (never
// a symlink out of it), device nodes, and the extended attributes a copy keeps.
import { addon, type InRoot } from '../sys/addon';
import { keepXattr } from './tar/writer';

export type { InRoot } from '../sys/addon';

/** openInRoot is an O_PATH fd of path resolved inside root; with mkdir, missing directories are made. */
export function openInRoot(root: InRoot, path: string, opts?: { mkdir?: boolean; mode?: number }): number {
  return addon().openInRoot(root, path, opts);
}

/** openFileInRoot opens for reading the regular file at path in root, which must be the file with this dev and ino. */
export function openFileInRoot(root: InRoot, path: string, dev: number, ino: number): number {
  return addon().openFileInRoot(root, path, dev, ino);
}

/** copyFileInRoot copies the file openFileInRoot would open to a new file target, with mode and mtime. */
export function copyFileInRoot(root: InRoot, path: string, dev: number, ino: number, target: string, mode: number, mtimeMs: number): void {
  addon().copyFileInRoot(root, path, dev, ino, target, mode, mtimeMs);
}

/** removeEmptyBeneath removes the empty file or directory at path below root, following no symlink. */
export function removeEmptyBeneath(root: InRoot, path: string): boolean {
  return addon().removeEmptyBeneath(root, path);
}

/** makeNode makes a device node (or FIFO) at a host path. */
export function makeNode(path: string, mode: number, major: number, minor: number): void {
  addon().mknod(path, mode, major, minor);
}

/** copiedXattrNames lists a file's extended attributes that a copy keeps, sorted. */
export function copiedXattrNames(path: string): string[] {
  return addon().llistxattr(path).filter(keepXattr).sort();
}

/** copiedXattrs are a file's kept extended attributes and their values, in name order. */
export function copiedXattrs(path: string): Array<[string, Buffer]> {
  const native = addon();
  return copiedXattrNames(path).flatMap((name): Array<[string, Buffer]> => {
    const value = native.lgetxattr(path, name);
    return value ? [[name, value]] : [];
  });
}

/** setXattr sets an extended attribute, not following symlinks. */
export function setXattr(path: string, name: string, value: Buffer): void {
  addon().lsetxattr(path, name, value);
}
