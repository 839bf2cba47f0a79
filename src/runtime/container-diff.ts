// `docker diff`: what a container's writable layer changed in its image, as
// Docker's overlay driver reports it (moby's archive.OverlayChanges): a walk
// of the upper dir, parents before children and names in byte order; a
// whiteout is D, a name the image lacks is A, one it has is C; a directory
// the image has with the same mode and mtime is left out unless something
// below it was added or deleted. A container with snapshots wrote several
// layers (its upper dir over its snapshots): they are walked merged as overlay
// merges them, so the changes are the container's against its image.
import type { Stats } from 'node:fs';

import { MergedTree, OVERLAY_OPAQUE, isWhiteout } from '../image/merged-tree';
import { addon } from '../sys/addon';
import { PinnedDir } from '../image/pinned-dir';
import { STUB_DIRS, STUB_FILES } from './mount-stubs';

/** Change is one line of `docker diff`. */
export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

/** UpperEntry is what the walk needs to know of an entry of the upper dir. */
export interface UpperEntry {
  path: string;
  stats: Pick<Stats, 'mode' | 'mtimeMs'> & { isDirectory(): boolean };
  whiteout: boolean;
}

/** LowerLookup finds a path in the image below the writable layer. */
export type LowerLookup = (path: string) => Pick<Stats, 'mode' | 'mtimeMs'> & { isDirectory(): boolean } | null;

/** containerChanges lists the changes of the layers a container wrote (its upper dir, then its snapshots)
 * over its image's layers (both topmost first). */
export function containerChanges(writableDirs: string[], lowerDirs: string[]): Change[] {
  const lower = new MergedTree(lowerDirs);
  const lowerOf: LowerLookup = (path) => lower.lstat(path)?.stats ?? null;
  // Below the top, a whiteout may hide what only a snapshot had: no change to the image then.
  const entries = writableDirs.length === 1 ? walkUpper(writableDirs) : keepImageWhiteouts(walkUpper(writableDirs), lowerOf);
  return changesOf(entries, lowerOf);
}

function* keepImageWhiteouts(entries: Iterable<UpperEntry>, lowerOf: LowerLookup): Generator<UpperEntry> {
  for (const entry of entries) if (!entry.whiteout || lowerOf(entry.path)) yield entry;
}

/** changesOf turns the upper dir's entries, in walk order, into Docker's change list. */
export function changesOf(entries: Iterable<UpperEntry>, lowerOf: LowerLookup): Change[] {
  const changes: Change[] = [];
  const changedDirs = new Set<string>();
  for (const entry of entries) {
    const lower = entry.whiteout ? null : lowerOf(entry.path);
    const kind: Change['kind'] = entry.whiteout ? 'D' : lower ? 'C' : 'A';
    if (kind === 'C' && lower!.isDirectory() && entry.stats.isDirectory() && sameDir(lower!, entry.stats)) continue;
    if (entry.stats.isDirectory() && !entry.whiteout) changedDirs.add(entry.path);
    if (kind !== 'C') {
      const parent = entry.path.slice(0, entry.path.lastIndexOf('/')) || '/';
      if (parent !== '/' && !changedDirs.has(parent)) {
        changes.push({ kind: 'C', path: parent });
        changedDirs.add(parent);
      }
    }
    changes.push({ kind, path: entry.path });
  }
  return changes;
}

function sameDir(a: Pick<Stats, 'mode' | 'mtimeMs'>, b: Pick<Stats, 'mode' | 'mtimeMs'>): boolean {
  return a.mode === b.mode && a.mtimeMs === b.mtimeMs;
}

// walkUpper lists the writable layers merged, parents first, names in byte order, through fds: a running
// container may swap a directory for a symlink meanwhile.
function* walkUpper(layerDirs: string[]): Generator<UpperEntry> {
  const roots = layerDirs.map((dir) => PinnedDir.open(dir));
  try {
    yield* walkDir(roots, '');
  } finally {
    roots.forEach((root) => root.close());
  }
}

// walkDir walks one directory of the merged layers: dirs holds it in each layer that shows it, topmost first.
function* walkDir(dirs: PinnedDir[], prefix: string): Generator<UpperEntry> {
  const names = dirs.length === 1 ? dirs[0].names() : [...new Set(dirs.flatMap((dir) => dir.names()))].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    const path = `${prefix}/${name}`;
    const found = topmost(dirs, name);
    if (!found) continue; // removed meanwhile
    const { stats, layer } = found;
    if (!stats.isDirectory()) {
      if (!(stats.isFile() && stats.size === 0 && STUB_FILES.includes(path.slice(1)))) yield { path, stats, whiteout: isWhiteout(stats) };
      continue;
    }
    const children = mergedChildren(dirs.slice(layer), name);
    if (children.length === 0) continue; // swapped for something else meanwhile: not a directory of this layer any more
    try {
      // A mount stub the runtime made (an empty /proc) is no change of the container's.
      if (STUB_DIRS.includes(path.slice(1)) && children.every((child) => child.names().length === 0)) continue;
      yield { path, stats, whiteout: false };
      yield* walkDir(children, path);
    } finally {
      children.forEach((child) => child.close());
    }
  }
}

// topmost is the entry name in the highest layer that has it.
function topmost(dirs: PinnedDir[], name: string): { stats: Stats; layer: number } | null {
  for (const [layer, dir] of dirs.entries()) {
    try {
      return { stats: dir.lstat(name), layer };
    } catch {
      // Not in this layer.
    }
  }
  return null;
}

// mergedChildren opens directory name in the layers that show it, from the first (where it is a directory)
// down to a layer where it is opaque, a whiteout or no directory, as overlayfs merges them.
function mergedChildren(dirs: PinnedDir[], name: string): PinnedDir[] {
  const children: PinnedDir[] = [];
  for (const dir of dirs) {
    let stats: Stats;
    try {
      stats = dir.lstat(name);
    } catch {
      continue;
    }
    if (!stats.isDirectory()) break;
    let child: PinnedDir;
    try {
      child = dir.child(name);
    } catch {
      break;
    }
    children.push(child);
    if (addon().lgetxattr(`${child.pathOf()}/.`, OVERLAY_OPAQUE)?.toString() === 'y') break;
  }
  return children;
}
