// One path of a stage's or image's merged layers as a plain host directory (or
// file) that RUN --mount can bind or seed a cache from. No overlay is mounted
// on the host, so a killed build leaks no mount: the view lives in the store's
// tmp/, which the next open sweeps. A read-only view hardlinks files to the
// layers' own (a directory walk, no data copied; the container sees it through
// a read-only bind); a writable one copies them, so writes never reach a layer.
import { chmod, chown, mkdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { NboxError } from '../errors';
import { MergedTree } from '../image/merged-tree';
import { applyCopy, planCopy } from './copy';
import { cleanPath } from './glob';

/** RootfsView is a materialised path: where it is on the host, and whether it is a file. */
export interface RootfsView {
  hostPath: string;
  isFile: boolean;
}

/** materializeRootfsPath writes path (symlinks followed in-root) of the merged layers, topmost first, to dest, which must not exist;
 * shown names the stage or image in errors. */
export async function materializeRootfsPath(layers: string[], path: string, dest: string, options: { writable: boolean; shown: string }): Promise<RootfsView> {
  const inRoot = cleanPath(`/${path}`);
  const entry = new MergedTree(layers).stat(inRoot);
  if (!entry) throw new NboxError('ERR_NBOX_BUILD', `"${inRoot}" not found in ${options.shown}`);
  const plan = await planCopy({ sources: [inRoot], dest: '/', workdir: '/', from: { kind: 'rootfs', layers }, isAdd: false }, []);
  await mkdir(dest);
  await applyCopy(plan, dest, { linkFiles: !options.writable });
  if (!entry.stats.isDirectory()) return { hostPath: join(dest, posix.basename(inRoot)), isFile: true };
  // The view's root is made by the copy; it takes the source directory's owner and mode.
  const { uid, gid, mode } = entry.stats;
  await chown(dest, uid, gid);
  await chmod(dest, mode & 0o7777);
  return { hostPath: dest, isFile: false };
}
