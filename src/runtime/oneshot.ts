// A container with no record: a build step's RUN. Its writable layer is the
// caller's directory, which becomes an image layer as it is.
import { closeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';

import { SysError } from '../errors';
import { addon, type BindMount, type ExitStatus } from '../sys/addon';
import { startFailure } from './run';
import type { ResolvedUser } from './user';

/** OneShotSpec is everything a build step's container needs. */
export interface OneShotSpec {
  /** Image layer dirs, topmost first; at least one (an empty dir for `scratch`). */
  layers: string[];
  upperDir: string;
  workDir: string;
  /** An empty directory to mount the overlay on. */
  rootfs: string;
  argv: string[];
  env: string[];
  cwd: string;
  user: ResolvedUser;
  hostname: string;
  network: 'host' | 'none';
  mounts: BindMount[];
  stdio: [number, number, number];
}

/** OneShot is a started build container. */
export interface OneShot {
  exited: Promise<ExitStatus>;
  kill(signal: NodeJS.Signals): void;
}

/** startOneShot starts a build container; pre-exec failures throw ContainerStartError. */
export function startOneShot(spec: OneShotSpec): OneShot {
  let spawned;
  try {
    spawned = addon().spawn({
      argv: spec.argv,
      env: spec.env,
      cwd: spec.cwd,
      chownCwd: true,
      uid: spec.user.uid,
      gid: spec.user.gid,
      groups: spec.user.groups,
      hostname: spec.hostname,
      rootfs: spec.rootfs,
      lowerDirs: spec.layers,
      upperDir: spec.upperDir,
      workDir: spec.workDir,
      newNetwork: spec.network === 'none',
      mounts: spec.mounts,
      stdio: spec.stdio,
    });
  } catch (err) {
    throw err instanceof SysError ? startFailure(err, spec.argv[0]) : err;
  }
  const { pidfd } = spawned;
  let done = false;
  const exited = addon().wait(pidfd).then((status) => {
    done = true;
    closeSync(pidfd);
    return status;
  });
  return {
    exited,
    kill: (signal) => {
      if (!done) addon().kill(pidfd, osConstants.signals[signal]);
    },
  };
}
