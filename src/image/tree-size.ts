// The bytes a directory tree holds, as Docker counts a container's SizeRw:
// the sizes of everything but directories, each hard-linked inode once.
// Links are not followed, so a tree a container wrote cannot point it elsewhere.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** treeSize sums the sizes in the tree at dir; 0 when it does not exist. */
export async function treeSize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path).catch(() => undefined);
    if (!st) return;
    if (st.isDirectory()) {
      for (const name of await readdir(path).catch(() => [])) await walk(join(path, name));
      return;
    }
    const inode = `${st.dev}:${st.ino}`;
    if (seen.has(inode)) return;
    seen.add(inode);
    total += st.size;
  };
  await walk(dir);
  return total;
}
