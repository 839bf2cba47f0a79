// The bytes a directory tree holds, as Docker counts a container's SizeRw:
// the sizes of everything but directories, each hard-linked inode once.
// A running container may swap a directory for a symlink to / as we walk its
// layer: each directory is opened below its parent's fd with O_NOFOLLOW
// (PinnedDir), so the walk never leaves the tree, nor crosses into a mount.
import { lstatSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { PinnedDir } from './pinned-dir';

// Entries between two yields to the event loop: a large tree must not stall a server's other requests.
const ENTRIES_PER_YIELD = 1024;

/** treeSize sums the sizes in the tree at dir (a file's own size if it is one); 0 when it does not exist. */
export async function treeSize(dir: string): Promise<number> {
  const top = lstatSync(dir, { throwIfNoEntry: false });
  if (!top) return 0;
  if (!top.isDirectory()) return top.size;
  const seen = new Set<string>();
  let total = 0;
  let sinceYield = 0;
  const walk = async (parent: PinnedDir): Promise<void> => {
    for (const name of parent.names()) {
      let stats;
      try {
        stats = parent.lstat(name);
      } catch {
        continue; // Gone since the listing.
      }
      if (stats.isDirectory()) {
        if (stats.dev !== top.dev) continue;
        let child: PinnedDir;
        try {
          child = parent.child(name);
        } catch {
          continue; // Swapped for a link (or gone) since the lstat.
        }
        try {
          await walk(child);
        } finally {
          child.close();
        }
        continue;
      }
      const inode = `${stats.dev}:${stats.ino}`;
      if (!seen.has(inode)) {
        seen.add(inode);
        total += stats.size;
      }
      if (++sinceYield >= ENTRIES_PER_YIELD) {
        sinceYield = 0;
        await yieldToLoop();
      }
    }
  };
  let root: PinnedDir;
  try {
    root = PinnedDir.open(dir);
  } catch {
    return 0; // Gone, or swapped for a link, since the lstat.
  }
  try {
    await walk(root);
  } finally {
    root.close();
  }
  return total;
}
