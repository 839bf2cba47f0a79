// One path of a stage's or image's merged layers, or of the build context, as
// a plain host directory (or file) that RUN --mount can bind or seed a cache
// from. No overlay is mounted on the host, so a killed build leaks no mount:
// the view lives in the store's tmp/, which the next open sweeps. A read-only
// view hardlinks files to the layers' own (a directory walk, no data copied;
// the container sees it through a read-only bind); a writable one copies them,
// so writes never reach a layer or the context.
import { chmod, chown, mkdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { NboxError } from '../errors';
import { MergedTree } from '../image/merged-tree';
import { applyCopy, planCopy, type CopyRequest } from './copy';
import { cleanPath } from './glob';

/** RootfsView is a materialised path: where it is on the host, and whether it is a file. */
export interface RootfsView {
  hostPath: string;
  isFile: boolean;
}

/** materializeRootfsPath writes path (symlinks followed in-root) of the merged layers, topmost first, to dest, which must not exist;
 * shown names the stage or image in errors. */
export async function materializeRootfsPath(layers: string[], path: string, dest: string, options: { writable: boolean; shown: string }): Promise<RootfsView> {
  return materializePath({ kind: 'rootfs', layers }, path, dest, options);
}

/** materializePath writes path (symlinks followed in-root) of a stage's layers or of the context (what .dockerignore leaves) to dest, which must not exist. */
export async function materializePath(from: CopyRequest['from'], path: string, dest: string, options: { writable: boolean; shown: string }): Promise<RootfsView> {
  const inRoot = cleanPath(`/${path}`);
  const tree = from.kind === 'rootfs' ? new MergedTree(from.layers) : new MergedTree([from.dir], { overlay: false });
  const entry = tree.stat(inRoot);
  if (!entry) throw new NboxError('ERR_NBOX_BUILD', `"${inRoot}" not found in ${options.shown}`);
  const plan = await planCopy({ sources: [inRoot], dest: '/', workdir: '/', from, isAdd: false }, []);
  await mkdir(dest);
  await applyCopy(plan, dest, { linkFiles: !options.writable });
  if (!entry.stats.isDirectory()) return { hostPath: join(dest, posix.basename(inRoot)), isFile: true };
  // The view's root is made by the copy; it takes the source directory's owner (root for the context, as COPY) and mode.
  const { uid, gid } = from.kind === 'rootfs' ? entry.stats : { uid: 0, gid: 0 };
  await chown(dest, uid, gid);
  await chmod(dest, entry.stats.mode & 0o7777);
  return { hostPath: dest, isFile: false };
}
