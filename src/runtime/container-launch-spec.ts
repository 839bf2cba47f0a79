// The launch spec of a container on record, what `run` and `start` launch:
// its layers, mounts (with --init's tini), network namespace and security.
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { NboxError } from '../errors';
import type { BindMount } from '../sys/addon';
import { processStartTime } from '../sys/proc';
import type { LaunchSpec } from './launch';
import { containerPaths, type ContainerConfig, type ContainerRecord } from './container-record';
import type { ContainerState } from './container-state';
import { attachContainer } from './container-network';
import { containerSpec } from './container-spec';
import { launchMounts, recordedMounts } from './container-mounts';
import { isUserNetwork, sharedNetworkOf } from './network';
import { containerSecurity, deviceRules } from './security';
import { seccompCacheDir } from './seccomp';
import type { ResolvedUser } from './user';

/** INIT_BINARY is Debian's static tini (package tini): the image may have no libc. */
const INIT_BINARY = '/usr/bin/tini-static';
/** INIT_PATH is where Docker mounts its init in the container. */
const INIT_PATH = '/sbin/docker-init';

/** containerLaunchSpec is the launch spec of a container on record: what `run` and `start` launch. */
export async function containerLaunchSpec(
  config: ContainerConfig, layerDirs: string[], user: ResolvedUser, record: ContainerRecord, stdio: [number, number, number],
): Promise<LaunchSpec> {
  return containerSpec({
    id: config.id,
    layers: layerDirs,
    dirs: containerPaths(record.dir),
    argv: config.init ? [INIT_PATH, '--', ...config.argv] : config.argv,
    env: config.env,
    cwd: config.workingDir,
    user,
    hostname: config.hostname,
    ...(await containerNetwork(config, record)),
    seccomp: config.seccomp,
    security: containerSecurity(config, seccompCacheDir(dirname(dirname(record.dir)))),
    deviceRules: deviceRules(config.security),
    mounts: [
      ...(config.init ? [await initMount()] : []),
      ...(await launchMounts(recordedMounts(config), layerDirs, record.dir, config.tmpfs ?? {})),
    ],
    stdio,
    cgroup: record.state.cgroup,
    ...(config.resources ? { resources: config.resources } : {}),
  });
}

// containerNetwork is the launch spec's network: the host's, a namespace of its own (none), the bridge's
// namespace set up now, or another container's.
async function containerNetwork(config: ContainerConfig, record: ContainerRecord): Promise<Pick<LaunchSpec, 'network' | 'netns' | 'portAddress'>> {
  const shared = sharedNetworkOf(config.network);
  if (shared !== undefined) return { network: 'none', netns: sharedNetns(record, shared) };
  if (config.network === 'bridge' || isUserNetwork(config.network)) {
    const { netns, address } = await attachContainer(record);
    return { network: 'bridge', netns, portAddress: address };
  }
  return { network: config.network === 'host' ? 'host' : 'none' };
}

// sharedNetns is the network namespace of the running container a `container:ID` mode names, by its init's pid.
function sharedNetns(record: ContainerRecord, id: string): string {
  const state = JSON.parse(readFileSync(join(dirname(record.dir), id, 'state.json'), 'utf8')) as ContainerState;
  if (state.status !== 'running' || processStartTime(state.pid) !== state.pidStartTime) {
    throw new NboxError('ERR_NBOX_USAGE', `cannot join network of a non running container: ${id}`);
  }
  return `/proc/${state.pid}/ns/net`;
}

// initMount binds the host's tini read-only over /sbin/docker-init. Its target
// goes where every mount target goes: resolved inside the image's root, so an
// image's /sbin symlink cannot point the mount at a host path.
async function initMount(): Promise<BindMount> {
  if (!(await stat(INIT_BINARY).catch(() => null))?.isFile()) {
    throw new NboxError('ERR_NBOX_USAGE', `--init: ${INIT_BINARY} not found (install Debian's tini package)`);
  }
  return { source: INIT_BINARY, target: INIT_PATH, readonly: true, isFile: true };
}
