// Reads one file from the merged view of unpacked overlay layers without
// mounting them, so the engine can read /etc/passwd and /etc/group before the
// container exists. Symlinks resolve inside the image root, as openat2
// RESOLVE_IN_ROOT would, so a hostile image cannot point the engine at host files.
import { constants } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { isErrno } from '../errors';

/** IsOpaque tells whether a layer directory carries trusted.overlay.opaque=y. */
export type IsOpaque = (dirPath: string) => boolean;

// Linux's MAXSYMLINKS: more links than this in one lookup is ELOOP.
const MAX_SYMLINK_HOPS = 40;

// A merged directory is the stack of layer directories that overlay would merge
// for it, topmost first; lookups search them in order.
type MergedDir = string[];

type Lookup =
  | { kind: 'missing' }
  | { kind: 'dir'; dir: MergedDir }
  | { kind: 'symlink'; path: string }
  | { kind: 'other'; path: string; stats: Stats };

/** readImageFile returns a regular file's bytes from the merged layers (topmost first), or null when it does not resolve to one. */
export async function readImageFile(
  layerDirs: string[],
  path: string,
  isOpaque: IsOpaque = () => false,
): Promise<Buffer | null> {
  const root = mergeDirs(layerDirs, isOpaque);
  // Resolved directories from the root down; `..` pops, never past the root.
  const ancestors: MergedDir[] = [root];
  const pending = splitPath(path);
  let hops = 0;

  while (pending.length > 0) {
    const component = pending.shift()!;
    if (component === '..') {
      if (ancestors.length > 1) ancestors.pop();
      continue;
    }
    const found = await lookup(ancestors[ancestors.length - 1], component, isOpaque);
    if (found.kind === 'missing') return null;
    if (found.kind === 'dir') {
      ancestors.push(found.dir);
      continue;
    }
    if (found.kind === 'symlink') {
      if (++hops > MAX_SYMLINK_HOPS) return null;
      const target = await readlink(found.path);
      // An absolute target restarts at the image root, never the host's.
      if (target.startsWith('/')) ancestors.splice(1);
      pending.unshift(...splitPath(target));
      continue;
    }
    if (pending.length > 0 || !found.stats.isFile()) return null;
    return readRegularFile(found.path);
  }
  // The path named a directory (or the root itself), not a file.
  return null;
}

function splitPath(path: string): string[] {
  return path.split('/').filter((component) => component !== '' && component !== '.');
}

function mergeDirs(dirs: string[], isOpaque: IsOpaque): MergedDir {
  const merged: MergedDir = [];
  for (const dir of dirs) {
    merged.push(dir);
    if (isOpaque(dir)) break;
  }
  return merged;
}

// lookup finds one name in a merged directory the way overlayfs does: the topmost
// layer that has the name decides, a whiteout hides it, and a directory merges
// with the directories below it until an opaque one or a non-directory.
async function lookup(parent: MergedDir, name: string, isOpaque: IsOpaque): Promise<Lookup> {
  const dirs: string[] = [];
  for (const layerDir of parent) {
    const candidate = join(layerDir, name);
    const stats = await lstatOrNull(candidate);
    if (!stats) continue;
    if (isWhiteout(stats) || (dirs.length > 0 && !stats.isDirectory())) break;
    if (stats.isDirectory()) {
      dirs.push(candidate);
      if (isOpaque(candidate)) break;
      continue;
    }
    if (stats.isSymbolicLink()) return { kind: 'symlink', path: candidate };
    return { kind: 'other', path: candidate, stats };
  }
  return dirs.length > 0 ? { kind: 'dir', dir: dirs } : { kind: 'missing' };
}

// overlayfs marks a deleted entry with a character device numbered 0:0.
function isWhiteout(stats: Stats): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0;
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  }
}

// O_NOFOLLOW keeps a file swapped for a symlink after lstat from leading to the host.
async function readRegularFile(path: string): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
