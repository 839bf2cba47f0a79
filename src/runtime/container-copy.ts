// `docker cp` on the container's side: a path's stat, a path as a tar, and a
// tar unpacked into a directory. The container's view is its writable layer
// (upper dir) over its image layers, running or not. Every path in it is
// hostile: it is resolved in the merged view inside the container's root
// (never through a joined host path), file content is read from the file
// resolved inside its layer and checked to be the inode the walk saw, and
// writes go into the upper dir through fds of directories opened one name at
// a time with O_NOFOLLOW, parents copied up as overlayfs would. A file bound
// at a path (the user's `-v FILE:PATH`, the container's own /etc/hosts,
// hostname and resolv.conf) is written in place, so its mount stays. A
// running container is reached through its own mounts; a stopped one's bound
// host directories through the real paths its last start bound, opened with
// no symlink on the way (the container may have put one there, through a
// bind of a parent directory).
import { closeSync, constants, mkdirSync, openSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';

import { NboxError, isErrno } from '../errors';
import { MergedTree, changedWhileRead, type TreeEntry } from '../image/merged-tree';
import { PinnedDir } from '../image/pinned-dir';
import { extractTar } from '../image/tar/archive';
import { pathTar } from '../image/tar/writer';
import type { Store } from '../image/store';
import type { StoreRoot } from '../store/root';
import { containerPaths, type ContainerRecord } from './container-record';
import { Writer, lstatOrNull, setOwnerModeTimes } from './container-copy-writer';
import { bindSourcesOf, hostDirMounts, type BindSource } from './container-mounts';
import { etcBinds } from './etc-files';
import { snapshotDirs } from './snapshot-layers';
import { processStartTime } from '../sys/proc';
import { isZeroTime } from './container-status';

/** ContainerView is a container's file system: its upper dir over its image layers (topmost first),
 * and the host directories and files bound over parts of it. */
export interface ContainerView {
  /** The container as the user named it, for messages. */
  ref: string;
  upper: string;
  lowers: string[];
  binds: Bind[];
  /** Closes what the view holds open (a running container's root); idempotent. */
  release(): void;
}

/** Bind is a host directory or file bound at a container path. source is a path through a directory this view
 * holds open: a directory's, or a file's directory and its own name, which is looked up and opened without
 * following it; null for a file bound in a running container, reached through the container's own mounts. */
export interface Bind {
  source: string | null;
  target: string;
  readonly: boolean;
  isFile: boolean;
  /** changed: why a stopped container's bind cannot be reached (its source's path changed); a copy there fails. */
  changed?: string;
}

/** containerView finds the directories of a container's file system. With `live`, a running container is
 * read and written through its own mounts (its root as its init sees it), so a copy in shows in the running
 * container at once, volumes and binds included; its layers are what `diff` reads. */
export async function containerView(store: Store, record: ContainerRecord, ref: string, options: { live?: boolean } = {}): Promise<ContainerView> {
  const recorded = new Map(bindSourcesOf(record.dir).map((bind) => [bind.target, bind]));
  const mounts = hostDirMounts(record.config, record.dir);
  if (options.live && record.state.status === 'running') {
    const root = openLiveRoot(record);
    if (root !== null) {
      let open = true;
      const release = () => {
        if (open) closeSync(root);
        open = false;
      };
      // A file bound at a path is written in place through the container's root, where its mount is.
      const files = mounts.filter((mount) => recorded.get(mount.target)?.isFile ?? isNonDirectory(mount.source))
        .map((mount): Bind => ({ source: null, target: mount.target, readonly: mount.readonly, isFile: true }));
      // The trailing `.`: a walk opens its root with O_NOFOLLOW, which the fd link itself would fail.
      return { ref, upper: `/proc/self/fd/${root}/.`, lowers: [], binds: withOwnFiles(record, files, mounts, true), release };
    }
  }
  const image = await store.images.resolve(record.config.image);
  // The container's snapshots are lowers above its image's (container-snapshot.ts).
  const lowers = [...snapshotDirs(record.dir), ...(await store.layers.dirs(image.config))];
  const pinned = pinnedMounts(mounts, recorded, !isZeroTime(record.state.startedAt));
  return { ref, upper: containerPaths(record.dir).upper, lowers, binds: withOwnFiles(record, pinned.binds, mounts, false), release: pinned.release };
}

// pinnedMounts opens the bound host directories (a bound file's directory) of a stopped container by the real
// path its last start bound, one name at a time, never through a symlink, which only the container can have put
// there since. A volume's is in the store, out of the container's reach; a container that never started has
// none to hold but the real path now. One that ran with no record of its binds (an older nbox's) may have put a
// link on the path as configured: that path is walked as it is, so a link the user meant there fails the copy too.
// A source gone from the host is left out.
function pinnedMounts(mounts: ReturnType<typeof hostDirMounts>, recorded: Map<string, BindSource>, ran: boolean): { binds: Bind[]; release(): void } {
  const fds: number[] = [];
  const release = () => {
    for (const fd of fds.splice(0)) closeSync(fd);
  };
  try {
    const binds = mounts.flatMap((mount): Bind[] => {
      const known = mount.type === 'bind' ? recorded.get(mount.target)?.source : undefined;
      const real = known ?? (mount.type === 'bind' && ran ? posix.normalize(mount.source) : realpathOrNull(mount.source));
      if (real === null) return [];
      const isFile = recorded.get(mount.target)?.isFile ?? isNonDirectory(real);
      const fd = openWithoutSymlinks(isFile ? dirname(real) : real);
      if (fd === null) return [];
      if (fd === 'changed') {
        const changed = `the source of the mount at ${mount.target}, ${real}, changed since the container started: a symlink or a file is on its path`;
        return [{ source: '', target: mount.target, readonly: mount.readonly, isFile, changed }];
      }
      fds.push(fd);
      const dir = `/proc/self/fd/${fd}/.`;
      return [{ source: isFile ? `${dir}/${basename(real)}` : dir, target: mount.target, readonly: mount.readonly, isFile }];
    });
    return { binds, release };
  } catch (err) {
    release();
    throw err;
  }
}

// openWithoutSymlinks opens the directory at a real path one name at a time with O_NOFOLLOW; null when it is
// gone, 'changed' when a symlink or a file is on the way.
function openWithoutSymlinks(path: string): number | null | 'changed' {
  let dir = PinnedDir.open('/');
  try {
    for (const name of path.split('/').filter(Boolean)) dir = descend(dir, dir.child(name));
    return dir.fd;
  } catch (err) {
    dir.close();
    if (isErrno(err, 'ENOENT')) return null;
    if (isErrno(err, 'ELOOP') || isErrno(err, 'ENOTDIR')) return 'changed';
    throw err;
  }
}

// withOwnFiles adds the container's own /etc files (in its directory, which the container cannot reach) to its
// binds, unless a mount of the user's is at or above one; live, they are reached through the container's root.
function withOwnFiles(record: ContainerRecord, binds: Bind[], mounts: { target: string }[], live: boolean): Bind[] {
  const own = etcBinds(containerPaths(record.dir)).filter((etc) => !mounts.some((mount) => isAtOrBelow(etc.target, cleanPath(mount.target))));
  return [...binds, ...own.map(({ source, target, readonly }) => ({ source: live ? null : source, target, readonly, isFile: true }))];
}

// openLiveRoot opens the root of a running container's init, or null when the recorded process is gone.
// The start time is checked after the open: a pid that another process took since would otherwise give
// its root (the host's, say) to write into.
function openLiveRoot(record: ContainerRecord): number | null {
  const { pid, pidStartTime } = record.state;
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/root`, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return null;
  }
  if (processStartTime(pid) !== pidStartTime) {
    closeSync(fd);
    return null;
  }
  return fd;
}

// place finds the view a container path lies in: a directory bound at it or above it (the deepest
// one), read as a root of its own, a file bound at it, read in its host directory by its own name,
// or else the container's layers. The path is matched as written, `..` folded: a symlink in the
// layers that leads into a bound directory shows what is below the mount. Inside a bind, a symlink
// resolves inside that bind, never above its source; a bound file's own name is never followed.
function place(view: ContainerView, path: string): Placed {
  const absolute = posix.normalize(`/${path}`);
  const suffix = /\/\.$/.test(path) ? '/.' : path.endsWith('/') ? '/' : '';
  const bind = view.binds
    .flatMap((b) => (b.source === null ? [] : [{ ...b, source: b.source, target: cleanPath(b.target) }]))
    .filter((b) => isAtOrBelow(absolute, b.target))
    .sort((a, b) => b.target.length - a.target.length)[0];
  if (!bind) return { view, path, at: '/', readonly: false, file: false };
  if (bind.changed) throw new NboxError('ERR_NBOX_COPY', bind.changed);
  const rest = absolute.slice(bind.target === '/' ? 0 : bind.target.length) || '/';
  const hostView = (root: string): ContainerView => ({ ref: view.ref, upper: root, lowers: [], binds: [], release: () => {} });
  if (bind.isFile) {
    return { view: hostView(dirname(bind.source)), path: `/${basename(bind.source)}${rest === '/' ? '' : rest}`, at: null, readonly: bind.readonly, file: true };
  }
  return { view: hostView(bind.source), path: `${rest}${rest === '/' ? '' : suffix}`, at: bind.target, readonly: bind.readonly, file: false };
}

// Placed is a container path placed in a view: the path there; at, the container path of that view's root
// (null for a bound file's directory, which the container does not see); file, a bound file.
interface Placed {
  view: ContainerView;
  path: string;
  at: string | null;
  readonly: boolean;
  file: boolean;
}

function cleanPath(path: string): string {
  return posix.normalize(`/${path}`).replace(/(.)\/$/, '$1');
}

function isAtOrBelow(path: string, target: string): boolean {
  return path === target || path.startsWith(target === '/' ? '/' : `${target}/`);
}

/** PathStat is what `docker cp` learns of a path in a container before copying. */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: Date;
  /** The target of a symlink, else ''. */
  linkTarget: string;
  isDirectory: boolean;
}

/** statPath looks up path in the container, following a symlink at its end when followLink. */
export function statPath(container: ContainerView, path: string, followLink = false): PathStat {
  const placed = place(container, path);
  const tree = mergedView(placed.view);
  const entry = find(tree, placed, followLink, path);
  return {
    name: baseName(path),
    size: entry.stats.size,
    mode: entry.stats.mode,
    mtime: entry.stats.mtime,
    linkTarget: entry.stats.isSymbolicLink() ? tree.readlink(entry.path) ?? '' : '',
    isDirectory: entry.stats.isDirectory(),
  };
}

/** archivePath streams path and what is below it as a tar whose entries start with path's base name
 * (`.` for a path ending in `/.`: the directory's contents); followLink follows a symlink at its end (-L). */
export function archivePath(container: ContainerView, path: string, followLink = false): Readable {
  const placed = place(container, path);
  const tree = mergedView(placed.view);
  const entry = find(tree, placed, followLink, path);
  if (/\/\.?$/.test(path) && path !== '/' && !entry.stats.isDirectory()) throw new NboxError('ERR_NBOX_COPY', `not a directory: ${path}`);
  return pathTar(tree, entry, /(^|\/)\.$/.test(path) || baseName(path) === '.' ? '.' : baseName(path), path);
}

/** CopyInOptions tunes how a tar lands in a container. */
export interface CopyInOptions {
  /** Keep the tar's owners (-a); else everything belongs to the container's root. */
  keepOwners?: boolean;
}

/** extractInto unpacks a tar into the directory at path in the container. The tar is first unpacked
 * into a private directory of the store (GNU tar, as every outside tar), then copied into the upper dir. */
export async function extractInto(store: StoreRoot, container: ContainerView, path: string, tar: Readable, options: CopyInOptions = {}): Promise<void> {
  const placed = place(container, path);
  if (placed.readonly) throw readonlyTarget();
  const { view } = placed;
  const tree = mergedView(view);
  const dest = find(tree, placed, true, path);
  if (!dest.stats.isDirectory() || placed.at === null) throw new NboxError('ERR_NBOX_COPY', 'extraction point is not a directory');
  const destPath = posix.join(placed.at, dest.path);
  const staging = await store.makeTempDir('cp');
  try {
    await extractTar(tar, 'none', staging).catch((err: unknown) => {
      throw new NboxError('ERR_NBOX_COPY', (err as Error).message.replace('failed to extract archive', 'Error processing tar file'));
    });
    const files = boundFilesReached(container.binds, staging, destPath);
    const upperDir = copyUp(view, tree, dest);
    try {
      new Writer(view, upperDir, files, options.keepOwners ?? false).copyDir(staging, dest, destPath);
    } finally {
      upperDir.close();
    }
  } finally {
    await store.removeTree(staging);
  }
}

function readonlyTarget(): NboxError {
  return new NboxError('ERR_NBOX_COPY', 'mounted volume is marked read-only');
}

// boundFilesReached are the bound files (by container path) that the staged tree, unpacked at destPath,
// has an entry for. Checked before anything is written, so a refused copy changes nothing: only a regular
// file can be written into a bound one, in place; a directory or a link there would replace the mount.
function boundFilesReached(binds: Bind[], staging: string, destPath: string): Map<string, Bind> {
  const reached = new Map<string, Bind>();
  for (const bind of binds) {
    const target = cleanPath(bind.target);
    if (!bind.isFile || target === destPath || !isAtOrBelow(target, destPath)) continue;
    const staged = stagedEntry(staging, posix.relative(destPath, target));
    if (!staged) continue;
    if (bind.changed) throw new NboxError('ERR_NBOX_COPY', bind.changed);
    if (bind.readonly) throw readonlyTarget();
    if (staged.isDirectory()) throw new NboxError('ERR_NBOX_COPY', `cannot overwrite non-directory "${target}" with directory "${destPath}"`);
    if (!staged.isFile()) throw new NboxError('ERR_NBOX_COPY', `unlinkat ${target}: device or resource busy`);
    reached.set(target, bind);
  }
  return reached;
}

// stagedEntry is the staged tree's entry at a relative path, reached through real directories only (a
// staged symlink on the way replaces the container's directory rather than leading into it); null if none.
function stagedEntry(staging: string, relative: string): Stats | null {
  let path = staging;
  let stats: Stats | null = null;
  for (const name of relative.split('/')) {
    if (stats && !stats.isDirectory()) return null;
    path = join(path, name);
    stats = lstatOrNull(path);
    if (!stats) return null;
  }
  return stats;
}

function mergedView(view: ContainerView): MergedTree {
  return new MergedTree([view.upper, ...view.lowers], { live: true });
}

// find resolves a placed container path in its merged view, inside that view's root.
function find(tree: MergedTree, placed: Placed, followLink: boolean, shown: string): TreeEntry {
  const absolute = placed.path.startsWith('/') ? placed.path : `/${placed.path}`;
  // A trailing slash or `/.` asks for a directory: the last name is followed, as the kernel does.
  // A bound file's host name is not: the host file is opened as the user named it.
  const follow = !placed.file && (followLink || /\/\.?$/.test(absolute));
  let entry: TreeEntry | null;
  try {
    entry = follow ? tree.stat(absolute) : tree.lstat(absolute);
  } catch (err) {
    throw changedWhileRead(err, shown);
  }
  if (!entry) throw new NboxError('ERR_NBOX_COPY', `Could not find the file ${shown} in container ${placed.view.ref}`);
  return entry;
}

function baseName(path: string): string {
  const names = path.split('/').filter((name) => name !== '' && name !== '.');
  return names.length === 0 ? '.' : names[names.length - 1];
}

// copyUp makes the directory dest (a path of the merged view with no symlink
// in it) a real directory of the upper dir, copying up each missing parent
// with its owner, mode and mtime as overlayfs does, and returns it opened.
function copyUp(view: ContainerView, tree: MergedTree, dest: TreeEntry): PinnedDir {
  let dir = PinnedDir.open(view.upper);
  let path = '';
  try {
    for (const name of dest.path.split('/').filter(Boolean)) {
      path += `/${name}`;
      const existing = lstatOrNull(dir.pathOf(name));
      if (!existing) {
        const lower = tree.lstat(path);
        if (!lower?.stats.isDirectory()) throw raced(path);
        mkdirSync(dir.pathOf(name), 0o700);
        const made = dir.child(name);
        try {
          setOwnerModeTimes(made.fd, lower.stats.uid, lower.stats.gid, lower.stats.mode, lower.stats);
        } catch (err) {
          made.close();
          throw err;
        }
        dir = descend(dir, made);
      } else if (existing.isDirectory()) {
        dir = descend(dir, dir.child(name));
      } else {
        throw raced(path);
      }
    }
    return dir;
  } catch (err) {
    dir.close();
    throw err;
  }
}

function descend(parent: PinnedDir, child: PinnedDir): PinnedDir {
  parent.close();
  return child;
}

function raced(path: string): NboxError {
  return new NboxError('ERR_NBOX_COPY', `${path} changed in the container during the copy`);
}

// isNonDirectory tells whether a host path (followed) is there and is no directory: a bind of a file, socket or device.
function isNonDirectory(path: string): boolean {
  const stats = statSync(path, { throwIfNoEntry: false });
  return stats !== undefined && !stats.isDirectory();
}

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}
