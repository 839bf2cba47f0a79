// A container's mounts, from its flags to its launch: `-v`, `--mount`,
// `--volumes-from` and the image's VOLUMEs become one list of MountSpecs,
// checked before anything is created (planMounts); the volumes they name are
// made under the store lock with the container record (createVolumes); each
// start turns them into the binds the child makes (launchMounts), a new
// volume first getting the image's content at its path (copy-up).
import { readFileSync } from 'node:fs';
import { mkdir, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';

import { NboxError } from '../errors';
import type { BindMount } from '../sys/addon';
import { checkBindPropagation } from './bind-propagation';
import type { ContainerConfig, ContainerRecord } from './container-record';
import { parseVolumesFrom, tmpfsOptions, type MountSpec } from './mount-spec';
import { copyUp } from './volume-copyup';
import { ANONYMOUS_LABEL, VolumeStore, checkVolumeName, newAnonymousName } from './volumes';

/** MountRequest is what run was asked to mount. */
export interface MountRequest {
  /** -v and --mount, in their order. */
  mounts: MountSpec[];
  /** --volumes-from CONTAINER[:ro|:rw]. */
  volumesFrom: string[];
  /** --tmpfs targets: a mount at one of them is a duplicate. */
  tmpfsTargets: string[];
  /** The image's VOLUME paths. */
  imageVolumes: string[];
}

/** recordedMounts is a container's mounts; records made before `mounts` kept -v binds alone in `binds`. */
export function recordedMounts(config: ContainerConfig): MountSpec[] {
  const binds = (config.binds ?? []).map((bind): MountSpec => ({
    type: 'bind', source: bind.source, target: bind.target, readonly: bind.readonly, mode: bind.readonly ? 'ro' : '', propagation: 'rprivate', createHostPath: true,
  }));
  return [...binds, ...(config.mounts ?? [])];
}

/** volumeBindSpec is a RunOptions `volumes` entry as a mount: an absolute source is a host path, any other a volume name. */
export function volumeBindSpec(bind: { source: string; target: string; readonly?: boolean }): MountSpec {
  const readonly = bind.readonly ?? false;
  return bind.source.startsWith('/')
    ? { type: 'bind', source: bind.source, target: bind.target, readonly, mode: readonly ? 'ro' : '', propagation: 'rprivate', createHostPath: true }
    : { type: 'volume', source: bind.source, target: bind.target, readonly, mode: readonly ? 'ro' : 'z', propagation: '', ...(bind.source === '' ? { anonymous: true } : {}) };
}

/** planMounts checks a run's mounts and composes them as Docker does: --volumes-from first, -v and --mount over
 * them by target, the image's VOLUMEs where nothing else is mounted. Nothing is created. */
export async function planMounts(request: MountRequest, resolveContainer: (ref: string) => Promise<ContainerRecord>): Promise<MountSpec[]> {
  const byTarget = new Map<string, MountSpec>();
  for (const spec of request.volumesFrom) {
    const { container, readonly } = parseVolumesFrom(spec);
    for (const mount of recordedMounts((await resolveContainer(container)).config)) {
      // Its anonymous volumes are shared, not owned: this container's rm -v leaves them.
      const { anonymous: _anonymous, ...shared } = mount;
      byTarget.set(cleanTarget(mount.target), readonly === undefined ? shared : { ...shared, readonly });
    }
  }
  // Checked here, before anything is made, as the daemon's create checks them: at start it is too late.
  for (const target of request.tmpfsTargets) {
    if (!target.startsWith('/')) throw new NboxError('ERR_NBOX_USAGE', `invalid mount path: '${target}' mount path must be absolute`);
    if (cleanTarget(target) === '/') throw new NboxError('ERR_NBOX_USAGE', `invalid mount path: '${target}' mount path must not be "/"`);
  }
  const own = new Set<string>(request.tmpfsTargets.map(cleanTarget));
  for (const mount of request.mounts) {
    if (!mount.target.startsWith('/')) {
      throw new NboxError('ERR_NBOX_USAGE', `invalid mount config for type "${mount.type}": invalid mount path: '${mount.target}' mount path must be absolute`);
    }
    const target = cleanTarget(mount.target);
    if (own.has(target)) throw new NboxError('ERR_NBOX_USAGE', `Duplicate mount point: ${target}`);
    own.add(target);
    if (mount.type === 'volume' && mount.source !== '') checkVolumeName(mount.source);
    if (mount.type === 'bind' && !mount.createHostPath && !(await stat(mount.source).catch(() => null))) {
      throw new NboxError('ERR_NBOX_USAGE', `invalid mount config for type "bind": bind source path does not exist: ${mount.source}`);
    }
    byTarget.set(target, { ...mount, target });
  }
  for (const path of request.imageVolumes) {
    const target = cleanTarget(path);
    if (target === '/' || own.has(target) || byTarget.has(target)) continue;
    byTarget.set(target, { type: 'volume', source: '', target, readonly: false, mode: '', propagation: '', anonymous: true });
  }
  const planned = [...byTarget.values()];
  await checkBindPropagation(planned);
  return planned;
}

/** createVolumes names the anonymous volumes and makes every volume that does not exist yet (run under the store
 * lock, with the record that makes them in use). A `--rm` container's anonymous volumes go when it goes. */
export async function createVolumes(volumes: VolumeStore, mounts: MountSpec[], config: Pick<ContainerConfig, 'id' | 'autoRemove'>): Promise<{ mounts: MountSpec[]; created: string[] }> {
  const created: string[] = [];
  const named: MountSpec[] = [];
  for (const mount of mounts) {
    if (mount.type !== 'volume') {
      named.push(mount);
      continue;
    }
    const anonymous = mount.source === '';
    const name = anonymous ? newAnonymousName() : mount.source;
    const result = await volumes.create(name, anonymous ? { [ANONYMOUS_LABEL]: '' } : {}, anonymous && config.autoRemove ? config.id : undefined);
    if (result.created) created.push(name);
    named.push({ ...mount, source: name });
  }
  return { mounts: named, created };
}

/** launchMounts are the binds and tmpfs mounts of a container's mounts and its --tmpfs (target → mount options),
 * parents before children as Docker sorts them; a new volume gets the image's content at its target first
 * (unless nocopy), and a -v host path is made if missing. A shared or slave bind's source is checked again
 * first, as Docker checks it at each start: the host's mounts may have changed since. */
export async function launchMounts(mounts: MountSpec[], layerDirs: string[], containerDir: string, tmpfs: Record<string, string>): Promise<BindMount[]> {
  await checkBindPropagation(mounts);
  const volumes = volumesDirOf(containerDir);
  const binds: BindMount[] = Object.entries(tmpfs).map(([target, options]) => ({ source: '', tmpfs: options || 'mode=1777', target, readonly: false, isFile: false }));
  const realSources: BindSource[] = [];
  for (const mount of mounts) {
    if (mount.type === 'tmpfs') {
      binds.push({ source: '', tmpfs: tmpfsOptions(mount), target: mount.target, readonly: mount.readonly, isFile: false });
    } else if (mount.type === 'volume') {
      const data = join(volumes, mount.source, '_data');
      if (!(await stat(data).catch(() => null))?.isDirectory()) {
        throw new NboxError('ERR_NBOX_NO_SUCH_VOLUME', `get ${mount.source}: no such volume`);
      }
      if (!mount.noCopy) await copyUp(layerDirs, mount.target, data);
      binds.push({ source: data, target: mount.target, readonly: mount.readonly, isFile: false });
    } else {
      const st = await stat(mount.source).catch(() => null);
      if (!st && !mount.createHostPath) {
        throw new NboxError('ERR_NBOX_USAGE', `invalid mount config for type "bind": bind source path does not exist: ${mount.source}`);
      }
      if (!st) await mkdir(mount.source, { recursive: true });
      // Bound by its real path, recorded for `cp` (bindSourcesOf).
      const source = await realpath(mount.source);
      const isFile = st ? !st.isDirectory() : false;
      realSources.push({ target: mount.target, source, isFile });
      binds.push({ source, target: mount.target, readonly: mount.readonly, isFile, propagation: mount.propagation || 'rprivate' });
    }
  }
  await recordBindSources(containerDir, realSources);
  return binds.sort((a, b) => depth(a.target) - depth(b.target));
}

/** BindSource is a bind's host source as its last start bound it: the real path, no symlink on it. */
export interface BindSource {
  target: string;
  source: string;
  isFile: boolean;
}

// A container's binds' real sources at its last start: what `cp` into the stopped container goes through, and
// only while the path is still free of symlinks. The container may have put one there since, through a bind of a
// parent directory, and a path resolved again would lead it to any host directory.
const BIND_SOURCES = 'bind-sources.json';

async function recordBindSources(containerDir: string, sources: BindSource[]): Promise<void> {
  // A container's mounts are fixed when it is made: one with no bind has never had a record to remove.
  if (sources.length === 0) return;
  const path = join(containerDir, BIND_SOURCES);
  // Whole or not at all: a record cut short reads as none.
  await writeFile(`${path}.new`, JSON.stringify(sources));
  await rename(`${path}.new`, path);
}

/** bindSourcesOf is what the container's last start recorded (recordBindSources); empty when it never started. */
export function bindSourcesOf(containerDir: string): BindSource[] {
  try {
    return JSON.parse(readFileSync(join(containerDir, BIND_SOURCES), 'utf8')) as BindSource[];
  } catch {
    return [];
  }
}

/** MountInspect is one of Docker's Mounts[] in a container's inspect. */
export interface MountInspect {
  Type: MountSpec['type'];
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** mountsInspect is Docker's Mounts[] of a container: a volume by name with its mountpoint as Source. */
export function mountsInspect(mounts: MountSpec[], containerDir: string): MountInspect[] {
  return mounts.map((m) => m.type === 'volume'
    ? { Type: 'volume', Name: m.source, Source: join(volumesDirOf(containerDir), m.source, '_data'), Destination: m.target, Driver: 'local', Mode: m.mode, RW: !m.readonly, Propagation: '' }
    : { Type: m.type, Source: m.source, Destination: m.target, Mode: m.mode, RW: !m.readonly, Propagation: m.propagation });
}

/** containerMounts is a container's Mounts[], as inspect and the container list give them. */
export function containerMounts(record: ContainerRecord): MountInspect[] {
  return mountsInspect(recordedMounts(record.config), record.dir);
}

/** hostDirMounts are a container's binds and volumes as host paths bound at targets (what `cp` reads and writes through). */
export function hostDirMounts(config: ContainerConfig, containerDir: string): { type: 'bind' | 'volume'; source: string; target: string; readonly: boolean }[] {
  return recordedMounts(config).flatMap((m) => (m.type === 'tmpfs' ? [] : [{
    type: m.type,
    source: m.type === 'volume' ? join(volumesDirOf(containerDir), m.source, '_data') : m.source,
    target: m.target,
    readonly: m.readonly,
  }]));
}

/** volumeNames are the volumes a container's mounts use; anonymousOnly: the ones it owns (`rm -v`). */
export function volumeNames(config: ContainerConfig, anonymousOnly = false): string[] {
  return recordedMounts(config).filter((m) => m.type === 'volume' && (!anonymousOnly || m.anonymous)).map((m) => m.source);
}

// A container's directory is <store>/containers/<id>: its volumes are in <store>/volumes.
function volumesDirOf(containerDir: string): string {
  return join(dirname(dirname(containerDir)), 'volumes');
}

function cleanTarget(target: string): string {
  return posix.normalize(target).replace(/(.)\/$/, '$1');
}

function depth(target: string): number {
  return cleanTarget(target).split('/').length;
}
