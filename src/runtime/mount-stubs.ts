// Mount points the container child creates in the upper dir when the image
// lacks them (/etc/hosts and friends, /proc, /sys, /dev): they belong to the
// runtime, not to what the container wrote, so no layer made of an upper dir
// (a RUN step's, a commit's) keeps them.
import { removeEmptyBeneath } from '../image/fs-calls';

/** STUB_FILES and STUB_DIRS are the stubs made when missing, relative to the root. */
export const STUB_FILES = ['etc/hosts', 'etc/hostname', 'etc/resolv.conf'];
export const STUB_DIRS = ['proc', 'sys', 'dev', 'etc'];

/** removeMountStubs takes the stubs out of a layer dir, and first the extra
 * ones (relative paths, deepest first). A container may have moved them and
 * planted symlinks in their place, so nothing on the way is followed: only an
 * empty file or directory at that very path goes. */
export function removeMountStubs(layerDir: string, extra: string[] = []): void {
  for (const stub of extra) removeEmptyBeneath(layerDir, stub);
  // The container saw the bind mounts, never these files: a stub is all an empty one can be.
  for (const file of STUB_FILES) removeEmptyBeneath(layerDir, file);
  for (const dir of STUB_DIRS) removeEmptyBeneath(layerDir, dir);
}
