// The spec builder both container paths share: `run` and a build's RUN give
// the layers, the host dirs and the command; this composes what launch needs
// (overlay dirs, the /etc binds before any other mount, USER resolved in the
// image), so a rule about any of them is written once.
import { mkdir } from 'node:fs/promises';

import { readUserDatabase } from '../image/rootfs-file';
import type { BindMount } from '../sys/addon';
import { etcBinds, type EtcFilePaths } from './etc-files';
import type { LaunchSpec } from './launch';
import { resolveUser, type ResolvedUser } from './user';

/** ContainerDirs are a container's host directories and its /etc files. */
export interface ContainerDirs extends EtcFilePaths {
  /** The overlay upper dir: the container's writable layer (a RUN's new layer). */
  upper: string;
  /** overlayfs's work dir, on the same filesystem as upper. */
  work: string;
  /** An empty directory the child mounts the overlay on. */
  rootfs: string;
  /** The lower dir of an image without layers (made only then): overlayfs needs one. */
  emptyLower: string;
}

/** ContainerSpecInput is what a caller knows of a container about to start:
 * its layers ([] for an image without any), host dirs, command and mounts
 * other than the /etc binds (volumes, tmpfs, RUN --mount). */
export type ContainerSpecInput = Omit<LaunchSpec, 'upperDir' | 'workDir' | 'rootfs' | 'mounts'> & {
  dirs: ContainerDirs;
  mounts?: BindMount[];
};

/** imageUser resolves a USER value (and --group-add) in the image's /etc/passwd and /etc/group. */
export async function imageUser(layers: string[], user: string, groupAdd: string[] = []): Promise<ResolvedUser> {
  const { passwd, group } = await readUserDatabase(layers);
  return resolveUser(user, passwd, group, groupAdd);
}

/** containerSpec composes the launch spec of a container. */
export async function containerSpec(input: ContainerSpecInput): Promise<LaunchSpec> {
  const { dirs } = input;
  if (input.layers.length === 0) await mkdir(dirs.emptyLower, { recursive: true });
  const { dirs: _dirs, ...launch } = input;
  return {
    ...launch,
    layers: input.layers.length > 0 ? input.layers : [dirs.emptyLower],
    upperDir: dirs.upper,
    workDir: dirs.work,
    rootfs: dirs.rootfs,
    chownCwd: input.chownCwd ?? false,
    seccomp: input.seccomp ?? true,
    mounts: [...etcBinds(dirs), ...(input.mounts ?? [])],
  };
}
