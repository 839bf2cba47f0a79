// The volume verbs that need the containers too: who uses a volume, `volume
// rm` and `prune` (never a volume a container uses, running or not, as
// Docker), `rm -v`'s anonymous volumes, `volume ls --filter`, and inspect's
// JSON. Removals run under the store lock, which `run` holds while it makes
// a container's volumes and record, so a volume cannot go between the two.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { NboxError } from '../errors';
import { parseFilterArgs, type FilterArgs } from '../filter-args';
import { treeSize } from '../image/tree-size';
import type { Store } from '../image/store';
import { volumeNames } from './container-mounts';
import type { ContainerRecord } from './container-record';
import type { ContainerRegistry } from './container-registry';
import { ANONYMOUS_LABEL, VolumeStore, newAnonymousName, noSuchVolume, type VolumeRecord } from './volumes';
import type { UsageLine } from '../image/disk-usage';

/** VolumeContext is what the volume verbs need of the library. */
export interface VolumeContext {
  store: Store;
  containers: ContainerRegistry;
}

/** VolumeInspect is `docker volume inspect`'s JSON for one volume. */
export interface VolumeInspect {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
}

/** VolumePruneResult is what `volume prune` removed. */
export interface VolumePruneResult {
  deleted: string[];
  spaceReclaimed: number;
}

/** CreateVolumeOptions are `docker volume create`'s. */
export interface CreateVolumeOptions {
  /** The name; a fresh 64-hex name when absent, as Docker's. */
  name?: string;
  labels?: Record<string, string>;
  /** Only `local` exists. */
  driver?: string;
}

/** createVolume makes a volume, or returns the existing one of that name (Docker's create is idempotent). */
export async function createVolume(ctx: VolumeContext, options: CreateVolumeOptions): Promise<VolumeRecord> {
  const name = options.name ?? newAnonymousName();
  if (options.driver !== undefined && options.driver !== 'local') {
    throw new NboxError('ERR_NBOX_USAGE', `create ${name}: error looking up volume plugin ${options.driver}: plugin "${options.driver}" not found`);
  }
  return ctx.store.root.withLock(async () => (await volumeStore(ctx).create(name, options.labels ?? {})).record);
}

/** volumeUsage is the Local Volumes line of `docker system df`: volumes, those in use, their bytes, the unused ones' bytes. */
export async function volumeUsage(ctx: VolumeContext): Promise<UsageLine> {
  await sweepRemovedWith(ctx);
  const containers = await ctx.containers.list();
  const line: UsageLine = { total: 0, active: 0, size: 0, reclaimable: 0, items: [] };
  for (const volume of await volumeStore(ctx).list()) {
    const size = await treeSize(volume.mountpoint);
    const refCount = volumeUsers(containers, volume.name).length;
    line.total++;
    line.size += size;
    line.items.push({ id: volume.name, size, refCount });
    if (refCount > 0) line.active++;
    else line.reclaimable += size;
  }
  return line;
}

/** volumeStore is the store's volumes. */
export function volumeStore(ctx: VolumeContext): VolumeStore {
  return new VolumeStore(ctx.store.root);
}

/** volumeInspect is Docker's JSON for a volume: no labels read as null, as Docker prints them. */
export function volumeInspect(record: VolumeRecord): VolumeInspect {
  return {
    CreatedAt: record.created,
    Driver: record.driver,
    Labels: Object.keys(record.labels).length > 0 ? record.labels : null,
    Mountpoint: record.mountpoint,
    Name: record.name,
    Options: null,
    Scope: 'local',
  };
}

/** volumeUsers are the IDs of the containers (running or not) that mount a volume. */
export function volumeUsers(containers: ContainerRecord[], name: string): string[] {
  return containers.filter((c) => volumeNames(c.config).includes(name)).map((c) => c.config.id);
}

/** removeVolume removes a volume no container uses (`docker volume rm`); with force a missing one is no error. */
export async function removeVolume(ctx: VolumeContext, name: string, force: boolean): Promise<void> {
  const volumes = volumeStore(ctx);
  await ctx.store.root.withLock(async () => {
    if (!(await volumes.find(name))) {
      if (force) return;
      throw noSuchVolume(name);
    }
    const users = volumeUsers(await ctx.containers.list(), name);
    if (users.length > 0) throw new NboxError('ERR_NBOX_CONFLICT', `remove ${name}: volume is in use - [${users.join(', ')}]`);
    await volumes.remove(name);
  });
}

/** removeAnonymousVolumes removes a removed container's anonymous volumes that no other container uses (`rm -v`, `--rm`). */
export async function removeAnonymousVolumes(ctx: VolumeContext, record: ContainerRecord): Promise<void> {
  const names = volumeNames(record.config, true);
  if (names.length === 0) return;
  const volumes = volumeStore(ctx);
  await ctx.store.root.withLock(async () => {
    const others = (await ctx.containers.list()).filter((c) => c.config.id !== record.config.id);
    for (const name of names) if (volumeUsers(others, name).length === 0) await volumes.remove(name);
  });
}

/** sweepRemovedWith removes the anonymous volumes of `--rm` containers that are gone: a `-d --rm`
 * container's monitor removes the container alone. Listings call it first, so they never show such a volume. */
export async function sweepRemovedWith(ctx: VolumeContext): Promise<void> {
  const volumes = volumeStore(ctx);
  const orphaned = (list: VolumeRecord[]) => list.filter((v) => v.removeWith && !existsSync(join(ctx.store.root.containersDir, v.removeWith)));
  if (orphaned(await volumes.list()).length === 0) return;
  await ctx.store.root.withLock(async () => {
    for (const volume of orphaned(await volumes.list())) await volumes.remove(volume.name);
  });
}

/** pruneVolumes removes the volumes no container uses: anonymous ones only unless all (`docker volume prune [-a]`),
 * and of those the ones that pass the filters (label, label!, all=true as -a). */
export async function pruneVolumes(ctx: VolumeContext, all: boolean, filters: string[] = []): Promise<VolumePruneResult> {
  const parsed = parseVolumeFilters(filters, ['label', 'label!', 'all']);
  if (parsed.get('all')?.some((v) => v === 'true' || v === '1')) all = true;
  await sweepRemovedWith(ctx);
  const volumes = volumeStore(ctx);
  return ctx.store.root.withLock(async () => {
    const containers = await ctx.containers.list();
    const result: VolumePruneResult = { deleted: [], spaceReclaimed: 0 };
    for (const volume of await volumes.list()) {
      if (!all && !(ANONYMOUS_LABEL in volume.labels)) continue;
      if (!matchesVolumeFilters(volume, parsed, containers)) continue;
      if (volumeUsers(containers, volume.name).length > 0) continue;
      result.spaceReclaimed += await treeSize(volume.mountpoint);
      await volumes.remove(volume.name);
      result.deleted.push(volume.name);
    }
    return result;
  });
}

/** listVolumes lists the volumes that pass every `key=value` filter of `volume ls`: name (a substring),
 * driver, label (key or key=value, `label!=` for those without), dangling (true: no container uses it). */
export async function listVolumes(ctx: VolumeContext, filters: string[]): Promise<VolumeRecord[]> {
  await sweepRemovedWith(ctx);
  const parsed = parseVolumeFilters(filters, ['name', 'driver', 'label', 'label!', 'dangling']);
  const containers = parsed.has('dangling') ? await ctx.containers.list() : [];
  return (await volumeStore(ctx).list()).filter((volume) => matchesVolumeFilters(volume, parsed, containers));
}

// VolumeFilters maps a filter key to its values: values of one key are alternatives, keys must all
// match; labels must all match, as Docker's filters read them.
type VolumeFilters = FilterArgs;

function parseVolumeFilters(filters: string[], keys: string[]): VolumeFilters {
  const byKey = parseFilterArgs(filters, keys);
  for (const key of ['dangling', 'all']) {
    const bad = byKey.get(key)?.find((value) => !['true', 'false', '1', '0'].includes(value));
    if (bad !== undefined) throw new NboxError('ERR_NBOX_USAGE', `invalid filter '${key}=${bad}'`);
  }
  return byKey;
}

function matchesVolumeFilters(volume: VolumeRecord, filters: VolumeFilters, containers: ContainerRecord[]): boolean {
  const hasLabel = (value: string) => {
    const eq = value.indexOf('=');
    return eq < 0 ? value in volume.labels : volume.labels[value.slice(0, eq)] === value.slice(eq + 1);
  };
  const tests: Record<string, (value: string) => boolean> = {
    name: (value) => volume.name.includes(value),
    driver: (value) => volume.driver === value,
    dangling: (value) => (volumeUsers(containers, volume.name).length === 0) === (value === 'true' || value === '1'),
  };
  return [...filters].every(([key, values]) => {
    if (key === 'label') return values.every(hasLabel);
    if (key === 'label!') return !values.some(hasLabel);
    if (key === 'all') return true;
    return values.some(tests[key]);
  });
}
