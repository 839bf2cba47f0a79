// A read-only view of a stack of unpacked layer directories as overlayfs would
// merge them, without mounting: whiteouts (char 0:0) hide entries, opaque
// directories hide everything below them, and symlinks resolve inside the image
// root as openat2 RESOLVE_IN_ROOT would, so a hostile image cannot point the
// engine at host files.
import { closeSync, lstatSync, readdirSync, readlinkSync, type Dirent, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { NboxError, SysError, isErrno } from '../errors';
import { addon } from '../sys/addon';

/** IsOpaque tells whether a layer's directory carries trusted.overlay.opaque=y. */
export type IsOpaque = (dirPath: string) => boolean;

/** TreeEntry is one entry of the merged view. */
export interface TreeEntry {
  /** path is the entry's in-root path: absolute, clean, no symlink above its last name. */
  path: string;
  /** hostPath is where overlay takes the entry from: the topmost layer holding it. */
  hostPath: string;
  stats: Stats;
  /** layerDirs, for a directory, are the layer directories overlay merges into it, topmost first. */
  layerDirs: string[];
}

/** MergedTreeOptions tunes how layers are read. */
export interface MergedTreeOptions {
  /** isOpaque overrides the xattr check (tests without root); defaults to reading trusted.overlay.opaque. */
  isOpaque?: IsOpaque;
  /** overlay false reads one plain directory (a build context): no whiteouts, no opaque checks. */
  overlay?: boolean;
  /** live: a running container changes the topmost layer dir meanwhile. Its directories are then
   * listed, and their entries lstat'ed, through an fd opened inside it (openat2 RESOLVE_IN_ROOT):
   * a directory swapped for a symlink never leads the view onto the host. */
  live?: boolean;
}

// Linux's MAXSYMLINKS: more links than this in one lookup is ELOOP.
const MAX_SYMLINK_HOPS = 40;

/** OVERLAY_OPAQUE is the xattr overlayfs puts on a directory that hides the layers below. */
export const OVERLAY_OPAQUE = 'trusted.overlay.opaque';

/** isOpaqueDir reads the overlay opaque marker of a directory in a layer. */
export const isOpaqueDir: IsOpaque = (dirPath) => addon().lgetxattr(dirPath, OVERLAY_OPAQUE)?.toString() === 'y';

/** isWhiteout tells whether stats are an overlay whiteout: a character device 0:0. */
export function isWhiteout(stats: Stats): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0;
}

// A walk ends at an entry, at a missing name (with the unresolved rest), or in a symlink loop.
type Walk =
  | { kind: 'found'; entry: TreeEntry }
  | { kind: 'missing'; parentPath: string; rest: string[] }
  | { kind: 'loop' };

/** MergedTree is the merged, read-only view of layer directories given topmost first.
 * Its calls are synchronous: a walk issues many tiny syscalls, and the thread-pool
 * round trip of Node's async fs costs more than the syscalls themselves. */
export class MergedTree {
  private readonly isOpaque: IsOpaque;
  private readonly overlay: boolean;
  private readonly root: TreeEntry | null;
  private readonly liveDir: string | undefined;

  constructor(layerDirs: string[], options: MergedTreeOptions = {}) {
    this.overlay = options.overlay ?? true;
    this.liveDir = options.live ? layerDirs[0] : undefined;
    this.isOpaque = this.overlay ? (options.isOpaque ?? isOpaqueDir) : () => false;
    const merged: string[] = [];
    for (const dir of layerDirs) {
      merged.push(dir);
      if (this.isOpaque(dir)) break;
    }
    const stats = merged.length > 0 ? lstatOrNull(merged[0]) : null;
    this.root = stats ? { path: '/', hostPath: merged[0], stats, layerDirs: merged } : null;
  }

  /** lstat finds the entry at path without following a symlink in its last name; null when nothing is there. */
  lstat(path: string): TreeEntry | null {
    const walk = this.walk(path, false);
    return walk.kind === 'found' ? walk.entry : null;
  }

  /** stat finds the entry at path, following symlinks all the way; null when nothing is there or links loop. */
  stat(path: string): TreeEntry | null {
    const walk = this.walk(path, true);
    return walk.kind === 'found' ? walk.entry : null;
  }

  /** readlink returns a symlink's target, or null when path is not a symlink. */
  readlink(path: string): string | null {
    const entry = this.lstat(path);
    return entry?.stats.isSymbolicLink() ? this.atEntry(entry, (path) => readlinkSync(path)) : null;
  }

  /** atEntry runs read on a path of entry that stays inside its layer: for the live layer, through
   * its directory opened in that layer, so a parent swapped for a symlink cannot lead read to the host. */
  atEntry<T>(entry: TreeEntry, read: (path: string) => T): T {
    const name = basename(entry.hostPath);
    const result = this.inLayer(dirname(entry.hostPath), (dir) => ({ value: read(join(dir, name)) }), null);
    if (!result) throw new NboxError('ERR_NBOX_COPY', `${entry.path} vanished while being read`);
    return result.value;
  }

  /** readdir lists the names in the directory at path (symlinks followed), sorted; null when it is not a directory. */
  readdir(path: string): string[] | null {
    const entry = this.stat(path);
    if (!entry?.stats.isDirectory()) return null;
    return this.children(entry).map((child) => child.path.slice(child.path.lastIndexOf('/') + 1));
  }

  /** resolve returns path's in-root form with every symlink followed; names below a missing one are kept as written (like securejoin). Throws on a symlink loop. */
  resolve(path: string): string {
    const walk = this.walk(path, true);
    if (walk.kind === 'loop') throw new NboxError('ERR_NBOX_BUILD', `${path}: too many levels of symbolic links`);
    if (walk.kind === 'found') return walk.entry.path;
    const names = walk.parentPath === '/' ? [] : walk.parentPath.slice(1).split('/');
    for (const name of walk.rest) {
      if (name === '..') names.pop();
      else names.push(name);
    }
    return `/${names.join('/')}`;
  }

  /** children lists a directory entry's merged children, sorted by name, whiteouts and hidden entries left out. */
  children(dir: TreeEntry): TreeEntry[] {
    // name -> its dirents in the layers that have it, topmost first.
    const byName = new Map<string, { layerDir: string; dirent: Dirent }[]>();
    for (const layerDir of dir.layerDirs) {
      for (const dirent of this.inLayer(layerDir, readdirOrEmpty, [])) {
        const found = byName.get(dirent.name);
        if (found) found.push({ layerDir, dirent });
        else byName.set(dirent.name, [{ layerDir, dirent }]);
      }
    }
    const childPath = (name: string) => (dir.path === '/' ? `/${name}` : `${dir.path}/${name}`);
    const entries: TreeEntry[] = [];
    for (const name of [...byName.keys()].sort()) {
      const entry = this.merge(childPath(name), byName.get(name)!.map(({ layerDir }) => join(layerDir, name)));
      if (entry) entries.push(entry);
    }
    return entries;
  }

  // merge decides one name from its candidates (topmost first), as overlay's
  // lookup does: the topmost decides, a whiteout hides, and a directory merges
  // with the directories below it until an opaque one or a non-directory.
  private merge(path: string, candidates: string[]): TreeEntry | null {
    let top: TreeEntry | null = null;
    for (const candidate of candidates) {
      const stats = this.liveDir === undefined ? lstatOrNull(candidate) : this.inLayer(dirname(candidate), (dir) => lstatOrNull(join(dir, basename(candidate))), null);
      if (!stats) continue;
      if (top === null) {
        if (this.overlay && isWhiteout(stats)) return null;
        top = { path, hostPath: candidate, stats, layerDirs: [] };
        if (!stats.isDirectory()) return top;
      } else if (!stats.isDirectory()) break;
      top.layerDirs.push(candidate);
      if (this.inLayer(dirname(candidate), (dir) => this.isOpaque(join(dir, basename(candidate))), false)) break;
    }
    return top;
  }

  // inLayer runs read on a directory of a layer: its path, or for the live
  // layer a /proc/self/fd path of the directory resolved inside that layer.
  private inLayer<T>(layerDir: string, read: (dir: string) => T, missing: T): T {
    const live = this.liveDir;
    if (live === undefined || (layerDir !== live && !layerDir.startsWith(`${live}/`))) return read(layerDir);
    let fd: number;
    try {
      fd = addon().openInRoot(live, layerDir.slice(live.length) || '/');
    } catch (err) {
      // Gone or no longer a directory: as an empty or missing directory reads.
      if (err instanceof SysError && ['ENOENT', 'ENOTDIR'].includes(err.errnoName)) return missing;
      throw err;
    }
    try {
      return read(`/proc/self/fd/${fd}`);
    } finally {
      closeSync(fd);
    }
  }

  private lookup(parent: TreeEntry, name: string): TreeEntry | null {
    const path = parent.path === '/' ? `/${name}` : `${parent.path}/${name}`;
    return this.merge(path, parent.layerDirs.map((layerDir) => join(layerDir, name)));
  }

  // walk resolves path name by name from the root; `..` pops, never past the
  // root, and an absolute symlink target restarts at the image root.
  private walk(path: string, followLast: boolean): Walk {
    if (!this.root) return { kind: 'missing', parentPath: '/', rest: splitPath(path) };
    const ancestors: TreeEntry[] = [this.root];
    const pending = splitPath(path);
    let hops = 0;
    while (pending.length > 0) {
      const name = pending.shift()!;
      const parent = ancestors[ancestors.length - 1];
      if (name === '..') {
        if (ancestors.length > 1) ancestors.pop();
        continue;
      }
      const entry = this.lookup(parent, name);
      if (!entry) return { kind: 'missing', parentPath: parent.path, rest: [name, ...pending] };
      if (entry.stats.isSymbolicLink() && (pending.length > 0 || followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) return { kind: 'loop' };
        let target: string;
        try {
          target = this.atEntry(entry, (path) => readlinkSync(path));
        } catch (err) {
          // A link gone or replaced by a file since the lookup (EINVAL), or procfs's /proc/self of a container's
          // view, read from outside its PID namespace: nothing is there.
          if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'EINVAL')) return { kind: 'missing', parentPath: parent.path, rest: [name, ...pending] };
          throw err;
        }
        if (target.startsWith('/')) ancestors.splice(1);
        pending.unshift(...splitPath(target));
        continue;
      }
      if (pending.length === 0) return { kind: 'found', entry };
      // A name below a non-directory does not exist (ENOTDIR).
      if (!entry.stats.isDirectory()) return { kind: 'missing', parentPath: parent.path, rest: [name, ...pending] };
      ancestors.push(entry);
    }
    return { kind: 'found', entry: ancestors[ancestors.length - 1] };
  }
}

// What reading a path a walk saw fails with when it is gone or another file by then.
const VANISHED = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ESTALE']);

/** changedWhileRead is err, or, when it says that a path the walk saw is gone or another file by now (a running
 * container changed it), a copy error saying so of shown, rather than a system call on a path of nbox's own. */
export function changedWhileRead(err: unknown, shown: string): unknown {
  const code = err instanceof SysError ? err.errnoName : (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined || !VANISHED.has(code)) return err;
  return new NboxError('ERR_NBOX_COPY', `${shown} changed in the container while it was read: a path in it is gone or another file`, { cause: err });
}

function splitPath(path: string): string[] {
  return path.split('/').filter((name) => name !== '' && name !== '.');
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return null;
    throw err;
  }
}

function readdirOrEmpty(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return [];
    throw err;
  }
}
