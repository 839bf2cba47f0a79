// Docker's copy-up: an empty volume mounted over a directory the image fills
// gets that directory's content (and its owner and mode) first. The image path
// is read through the merged view of the layers, which resolves every symlink
// inside the image root: a VOLUME path that is a link to /etc copies the
// image's /etc, never the host's. Links inside are copied as links, never
// followed, and the copy is staged beside _data and renamed in only while
// _data is still empty, so a volume a container already wrote is left alone.
import { constants, readlinkSync } from 'node:fs';
import { chmod, copyFile, lchown, lutimes, mkdir, open, readdir, rename, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { makeNode } from '../image/fs-calls';
import { MergedTree, type TreeEntry } from '../image/merged-tree';
import { deviceNumbers } from '../image/tar/devices';
import { randomBytes } from '../sys/random';

/** copyUp fills the empty volume directory data with the image's directory at target (layers topmost first); a
 * volume with content, or a target that is missing or not a directory in the image, is left as it is. */
export async function copyUp(layerDirs: string[], target: string, data: string): Promise<void> {
  if ((await readdir(data)).length > 0) return;
  const tree = new MergedTree(layerDirs);
  const source = tree.stat(target);
  if (!source?.stats.isDirectory()) return;
  const staging = join(dirname(data), `copyup-${randomBytes(8).toString('hex')}`);
  await mkdir(staging, { mode: 0o700 });
  try {
    await copyChildren(tree, source, staging);
    if ((await readdir(data)).length > 0) return;
    for (const name of await readdir(staging)) await rename(join(staging, name), join(data, name));
    await lchown(data, source.stats.uid, source.stats.gid);
    await chmod(data, source.stats.mode & 0o7777);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

// copyChildren copies a directory's merged entries into dest, a directory this copy made.
async function copyChildren(tree: MergedTree, dir: TreeEntry, dest: string): Promise<void> {
  for (const entry of tree.children(dir)) {
    const to = join(dest, entry.path.slice(entry.path.lastIndexOf('/') + 1));
    const { stats } = entry;
    if (stats.isDirectory()) {
      await mkdir(to, { mode: 0o700 });
      await copyChildren(tree, entry, to);
    } else if (stats.isSymbolicLink()) {
      await symlink(tree.atEntry(entry, (path) => readlinkSync(path)), to);
    } else if (stats.isFile()) {
      await copyRegularFile(entry.hostPath, to);
    } else if (stats.isCharacterDevice() || stats.isBlockDevice() || stats.isFIFO()) {
      makeNode(to, stats.mode, ...deviceNumbers(stats.rdev));
    } else {
      continue;
    }
    await lchown(to, stats.uid, stats.gid);
    if (!stats.isSymbolicLink()) await chmod(to, stats.mode & 0o7777);
    await lutimes(to, stats.atime, stats.mtime);
  }
}

// copyRegularFile copies a layer's file through an fd opened O_NOFOLLOW: what is copied is the file the view found.
async function copyRegularFile(from: string, to: string): Promise<void> {
  const handle = await open(from, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    await copyFile(`/proc/self/fd/${handle.fd}`, to, constants.COPYFILE_EXCL);
  } finally {
    await handle.close();
  }
}
