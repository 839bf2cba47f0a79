// The one way a container starts, for `run` and for a build's RUN alike: its
// own cgroup (device policy, a kill nothing dodges), stdio that never hands
// over the caller's terminal or files, the native spawn, and its end.
import { close, closeSync } from 'node:fs';

import { NboxError, SysError } from '../errors';
import { MergedTree } from '../image/merged-tree';
import { addon, type Addon, type BindMount, type ContainerSecurity, type ExitStatus, type SpawnSpec } from '../sys/addon';

export type { BindMount } from '../sys/addon';
import { CGROUP_MOUNT, cgroupDirs, createCgroup, isUnifiedHost, removeCgroup } from './cgroup';
import { oomKillCount } from './cgroup-stats';
import { processSecurity } from './security';
import { guardStdio, type GuardedStdio } from './stdio';
import type { TerminalSize, TerminalStdio } from './terminal';
import type { ResolvedUser } from './user';
import { rlimitNumber, type Resources } from './resources';

/** LaunchSpec is everything a container's init needs, resolved. */
export interface LaunchSpec {
  /** The container's ID; its cgroup is named after it and its owner. */
  id: string;
  /** Image layer dirs, topmost first; at least one. */
  layers: string[];
  upperDir: string;
  workDir: string;
  /** An empty directory to mount the overlay on (in the child's mount namespace only). */
  rootfs: string;
  argv: string[];
  env: string[];
  cwd: string;
  /** Directories made for cwd belong to the user (a build's WORKDIR). */
  chownCwd?: boolean;
  user: ResolvedUser;
  hostname: string;
  network: 'host' | 'none' | 'bridge';
  /** The network namespace a bridge container joins, set up beforehand (bridge-network.ts). */
  netns?: string;
  /** The container's address its published ports go to (its first network's), when it has one. */
  portAddress?: string;
  /** The default syscall filter; on unless false. */
  seccomp?: boolean;
  /** Capabilities, no_new_privs, the syscall filter, --privileged, --read-only, sysctls, devices (runtime/security.ts);
   * Docker's defaults (with seccomp's filter or none) when absent. */
  security?: ContainerSecurity;
  /** Device cgroup rules added to the default policy (--device, --device-cgroup-rule, --privileged). */
  deviceRules?: string[] | null;
  mounts: BindMount[];
  /** The caller's fds for the container's 0, 1 and 2 (unused with a terminal). */
  stdio: [number, number, number];
  /** -t: the container's 0-2 are a pty of this size, copied by stdio. */
  terminal?: { size: TerminalSize; stdio: TerminalStdio };
  /** The cgroup to make (cgroupDirs), when the caller recorded it beforehand. */
  cgroup?: string[];
  /** Limits: written into the cgroup before the init joins it, and its rlimits. */
  resources?: Resources;
}

/** Launched is a started container init; disposing of it kills it and waits for its end. */
export interface Launched extends AsyncDisposable {
  pid: number;
  /** The container's cgroup directories. */
  cgroup: string[];
  /** Its mounts, each target as resolved in the image (where the child made any stub). */
  mounts: BindMount[];
  /** Resolves once the init exited, its output is copied out and its cgroup is gone; oomKilled
   * says whether the kernel's OOM killer struck in the container meanwhile. */
  exited: Promise<ExitStatus & { oomKilled: boolean }>;
  /** Signals the init; false once it has exited. */
  kill(signal: number): boolean;
  /** The container's terminal, with LaunchSpec.terminal. */
  terminal?: TerminalStdio;
}

/** LaunchSystem is what launch asks of the host: the addon and cgroups. Unit
 * tests give it a recording fake (sys/fake-addon.ts) and need no root. */
export interface LaunchSystem {
  addon(): Addon;
  cgroupDirs(id: string): string[];
  createCgroup(dirs: string[], resources?: Resources, extraRules?: string[] | null): Promise<string[]>;
  removeCgroup(dirs: string[]): Promise<void>;
  /** OOM kills counted in the group so far. */
  oomKills(dirs: string[]): number;
}

const HOST: LaunchSystem = { addon, cgroupDirs, createCgroup, removeCgroup, oomKills: (dirs) => oomKillCount({ dirs, root: CGROUP_MOUNT, unified: isUnifiedHost() }) };

/** launch starts a container; a failure before its command runs throws ContainerStartError. */
export async function launch(spec: LaunchSpec, system: LaunchSystem = HOST): Promise<Launched> {
  const { addon, createCgroup, removeCgroup } = system;
  const mounts = resolveMountTargets(spec.layers, spec.mounts);
  const cgroup = spec.cgroup ?? system.cgroupDirs(spec.id);
  const cgroupJoinFiles = await createCgroup(cgroup, spec.resources, spec.deviceRules ?? null).catch((err: Error) => {
    throw new ContainerStartError(`unable to create the container's cgroup: ${err.message}`, 125, err);
  });
  let stdio: GuardedStdio | undefined;
  let spawned;
  try {
    stdio = spec.terminal?.stdio ?? guardStdio(spec.stdio, addon());
    spawned = addon().spawn(spawnSpec(spec, mounts, stdio.childFds, cgroupJoinFiles));
  } catch (err) {
    stdio?.close();
    await removeCgroup(cgroup);
    throw err instanceof SysError ? startFailure(err, spec.argv[0]) : new ContainerStartError((err as Error).message, 125, err);
  }
  const guarded = stdio;
  const { pid, pidfd, mountNamespace } = spawned;
  // Once the init exited, its mount namespace goes on the thread pool: the overlay's unmount syncs the
  // filesystem under the upper dir, milliseconds the end need not wait for.
  const releaseMounts = () => mountNamespace !== undefined && close(mountNamespace, () => {});
  try {
    if (spawned.terminal !== undefined) spec.terminal?.stdio.attach(spawned.terminal);
    guarded.started();
  } catch (err) {
    // The command runs already: it goes with the failure, not on without its stdio.
    addon().kill(pidfd, 9);
    await addon().wait(pidfd);
    closeSync(pidfd);
    releaseMounts();
    guarded.close();
    await removeCgroup(cgroup);
    throw new ContainerStartError(`unable to attach the container's stdio: ${(err as Error).message}`, 125, err);
  }
  let done = false;
  const exited = addon().wait(pidfd).then(async (status) => {
    // Closed at once, so no later kill() can reach a process that reused the fd number.
    done = true;
    closeSync(pidfd);
    releaseMounts();
    await guarded.drained();
    guarded.close();
    // Read before the group goes: a fresh group counts this container's kills only.
    const oomKilled = system.oomKills(cgroup) > 0;
    await removeCgroup(cgroup);
    return { ...status, oomKilled };
  });
  const kill = (signal: number) => !done && addon().kill(pidfd, signal);
  return {
    pid,
    cgroup,
    mounts,
    exited,
    kill,
    ...(spec.terminal ? { terminal: spec.terminal.stdio } : {}),
    async [Symbol.asyncDispose]() {
      kill(9);
      await exited;
    },
  };
}

/** spawnSpec is the addon's spec of a container's init: the launch spec with
 * its mounts resolved, the fds for its stdio and the cgroup files it joins through. */
export function spawnSpec(spec: LaunchSpec, mounts: BindMount[], stdio: [number, number, number], cgroupJoinFiles: string[]): SpawnSpec {
  return {
    argv: spec.argv,
    env: spec.env,
    cwd: spec.cwd,
    chownCwd: spec.chownCwd ?? false,
    uid: spec.user.uid,
    gid: spec.user.gid,
    groups: spec.user.groups,
    hostname: spec.hostname,
    rootfs: spec.rootfs,
    lowerDirs: spec.layers,
    upperDir: spec.upperDir,
    workDir: spec.workDir,
    newNetwork: spec.network !== 'host',
    ...(spec.netns ? { netns: spec.netns } : {}),
    ...(spec.security ?? processSecurity({ seccomp: spec.seccomp })),
    mounts,
    stdio,
    cgroupJoinFiles,
    ...(spec.resources?.ulimits?.length ? { rlimits: rlimitTriples(spec.resources) } : {}),
    ...(spec.terminal ? { terminal: spec.terminal.size } : {}),
  };
}

// rlimitTriples are the --ulimit values as the child applies them before execve (so the
// command never runs unlimited, and a hard limit above the inherited one is raised while
// the child still holds CAP_SYS_RESOURCE).
function rlimitTriples(resources: Resources): string[] {
  return (resources.ulimits ?? []).flatMap((u) => [String(rlimitNumber(u.Name)), String(u.Soft), String(u.Hard)]);
}

/** resolveMountTargets follows the image's symlinks in each mount target, inside
 * its root, as runc does: a dangling `/etc/resolv.conf` link (systemd-resolved's
 * layout) gets its file at the link's target. A target in /proc is refused, as
 * runc refuses it: procfs is the container's view of the kernel. */
export function resolveMountTargets(layers: string[], mounts: BindMount[]): BindMount[] {
  const tree = new MergedTree(layers);
  return mounts.map((mount) => {
    if (!mount.target.startsWith('/')) {
      throw new NboxError('ERR_NBOX_USAGE', `invalid mount path: '${mount.target}' mount path must be absolute`);
    }
    const target = tree.resolve(mount.target);
    if (target === '/proc' || target.startsWith('/proc/')) {
      throw new NboxError('ERR_NBOX_USAGE', `invalid mount path: '${mount.target}' cannot be mounted because it is inside /proc`);
    }
    return { ...mount, target };
  });
}

/** ContainerStartError is a container that could not start; exitCode is Docker's (125, 126, 127). */
export class ContainerStartError extends NboxError {
  constructor(message: string, readonly exitCode: number, cause: unknown) {
    super('ERR_NBOX_SYS', message, { cause });
    this.name = 'ContainerStartError';
  }
}

/** startFailure words a failed container start as Docker does, with its exit code. */
export function startFailure(err: SysError, command: string): ContainerStartError {
  if (err.step === 'exec') {
    if (err.errnoName === 'ENOENT') {
      const detail = command.includes('/') ? `stat ${command}: no such file or directory` : 'executable file not found in $PATH';
      return new ContainerStartError(`exec: "${command}": ${detail}`, 127, err);
    }
    if (err.errnoName === 'EACCES' || err.errnoName === 'ENOEXEC' || err.errnoName === 'EISDIR') {
      return new ContainerStartError(`exec: "${command}": permission denied`, 126, err);
    }
    // A joined command that neither exec'd nor failed in child.c's JOIN_START_TIMEOUT_MS: killed then.
    if (err.syscall === 'start' && err.errnoName === 'ETIMEDOUT') {
      return new ContainerStartError(`exec: "${command}": did not start in time: something in the container stopped it before its exec`, 126, err);
    }
  }
  if (err.step === 'bind-mount' && err.syscall === 'fstatfs' && err.errnoName === 'EPERM') {
    return new ContainerStartError(`invalid mount path: '${err.path}' cannot be mounted because it is inside /proc`, 125, err);
  }
  if (err.step === 'chdir' && err.syscall === 'getcwd') {
    return new ContainerStartError(`unable to start container process: current working directory is outside of container mount namespace root -- possible container breakout detected`, 125, err);
  }
  return new ContainerStartError(`unable to start container process: ${err.message}`, 125, err);
}
