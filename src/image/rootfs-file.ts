// Reads one file from the merged view of unpacked overlay layers without
// mounting them, so the engine can read /etc/passwd and /etc/group before the
// container exists. The merged view (merged-tree.ts) resolves symlinks
// inside the image root, so a hostile image cannot point the engine at host files.
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { MergedTree, isOpaqueDir, type IsOpaque } from './merged-tree';

export type { IsOpaque } from './merged-tree';

/** readImageFile returns a regular file's bytes from the merged layers (topmost first), or null when it does not resolve to one. */
export async function readImageFile(layerDirs: string[], path: string, isOpaque: IsOpaque = isOpaqueDir): Promise<Buffer | null> {
  const entry = new MergedTree(layerDirs, { isOpaque }).stat(path);
  if (!entry?.stats.isFile()) return null;
  return readRegularFile(entry.hostPath);
}

/** readUserDatabase reads /etc/passwd and /etc/group as text (null when absent) through one merged view. */
export async function readUserDatabase(layerDirs: string[]): Promise<{ passwd: string | null; group: string | null }> {
  const tree = new MergedTree(layerDirs, { isOpaque: isOpaqueDir });
  const read = async (path: string) => {
    const entry = tree.stat(path);
    return entry?.stats.isFile() ? readRegularFile(entry.hostPath).toString('utf8') : null;
  };
  const [passwd, group] = await Promise.all([read('/etc/passwd'), read('/etc/group')]);
  return { passwd, group };
}

// O_NOFOLLOW keeps a file swapped for a symlink after lstat from leading to the host. The files
// read here are an image's small /etc ones: read at once, not through the thread pool.
function readRegularFile(path: string): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
