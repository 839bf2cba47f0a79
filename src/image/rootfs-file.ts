// Reads one file from the merged view of unpacked overlay layers without
// mounting them, so the engine can read /etc/passwd and /etc/group before the
// container exists. The merged view (merged-tree.ts) resolves symlinks
// inside the image root, so a hostile image cannot point the engine at host files.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { MergedTree, isOpaqueDir, type IsOpaque } from './merged-tree';

export type { IsOpaque } from './merged-tree';

/** readImageFile returns a regular file's bytes from the merged layers (topmost first), or null when it does not resolve to one. */
export async function readImageFile(layerDirs: string[], path: string, isOpaque: IsOpaque = isOpaqueDir): Promise<Buffer | null> {
  const entry = new MergedTree(layerDirs, { isOpaque }).stat(path);
  if (!entry?.stats.isFile()) return null;
  return readRegularFile(entry.hostPath);
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
