// `docker diff`: what a container's writable layer changed in its image, as
// Docker's overlay driver reports it (moby's archive.OverlayChanges): a walk
// of the upper dir, parents before children and names in byte order; a
// whiteout is D, a name the image lacks is A, one it has is C; a directory
// the image has with the same mode and mtime is left out unless something
// below it was added or deleted.
import type { Stats } from 'node:fs';

import { MergedTree, isWhiteout } from '../image/merged-tree';
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

/** containerChanges lists the changes of the upper dir over the image layers (topmost first). */
export function containerChanges(upperDir: string, lowerDirs: string[]): Change[] {
  const lower = new MergedTree(lowerDirs);
  return changesOf(walkUpper(upperDir), (path) => lower.lstat(path)?.stats ?? null);
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

// walkUpper lists the upper dir parents first, names in byte order, through
// fds: a running container may swap a directory for a symlink meanwhile.
function* walkUpper(upperDir: string): Generator<UpperEntry> {
  const root = PinnedDir.open(upperDir);
  try {
    yield* walkDir(root, '');
  } finally {
    root.close();
  }
}

function* walkDir(dir: PinnedDir, prefix: string): Generator<UpperEntry> {
  for (const name of dir.names()) {
    const path = `${prefix}/${name}`;
    let stats: Stats;
    try {
      stats = dir.lstat(name);
    } catch {
      continue; // removed meanwhile
    }
    if (!stats.isDirectory()) {
      if (!(stats.isFile() && stats.size === 0 && STUB_FILES.includes(path.slice(1)))) yield { path, stats, whiteout: isWhiteout(stats) };
      continue;
    }
    let child: PinnedDir;
    try {
      child = dir.child(name);
    } catch {
      continue; // swapped for something else meanwhile: not a directory of this layer any more
    }
    try {
      // A mount stub the runtime made (an empty /proc) is no change of the container's.
      if (STUB_DIRS.includes(path.slice(1)) && child.names().length === 0) continue;
      yield { path, stats, whiteout: false };
      yield* walkDir(child, path);
    } finally {
      child.close();
    }
  }
}

