// Stopped containers and the space containers hold: `docker container prune`,
// the Containers line of `docker system df` and `ps -s`. A container's size is
// its writable layer's, as Docker's SizeRw, with its snapshots'
// (container-snapshot.ts); its virtual size (SizeRootFs) adds its image's.
import type { UsageLine } from '../image/disk-usage';
import { treeSize } from '../image/tree-size';
import type { ContainerRecord } from './container-record';
import type { ContainerRegistry } from './container-registry';
import { writableLayerDirs } from './snapshot-layers';

// A container being started is "created" with its owner set: it is not stopped.
function stopped(record: ContainerRecord): boolean {
  return record.state.status === 'exited' || (record.state.status === 'created' && record.state.owner === undefined);
}

/** pruneStoppedContainers removes every stopped container: their IDs and the bytes their writable layers held. */
export async function pruneStoppedContainers(registry: ContainerRegistry): Promise<{ deleted: string[]; spaceReclaimed: number }> {
  const deleted: string[] = [];
  let spaceReclaimed = 0;
  for (const record of (await registry.list()).filter(stopped)) {
    spaceReclaimed += await writtenSize(record);
    await registry.remove(record);
    deleted.push(record.config.id);
  }
  return { deleted, spaceReclaimed };
}

/** ContainerSize is Docker's SizeRw and SizeRootFs: the bytes a container wrote, and those with its image's. */
export interface ContainerSize {
  rw: number;
  rootFs: number;
}

/** ImageSizeOf gives an image's bytes by ID: 0 for one no longer stored. */
export type ImageSizeOf = (imageId: string) => number;

/** containerSize walks a container's writable layers: what `ps -s` shows of it. */
export async function containerSize(record: ContainerRecord, imageSizeOf: ImageSizeOf): Promise<ContainerSize> {
  const rw = await writtenSize(record);
  return { rw, rootFs: imageSizeOf(record.config.image) + rw };
}

/** containerUsage counts containers, the running ones, and their writable layers' bytes (all but the running ones' reclaimable). */
export async function containerUsage(records: ContainerRecord[], imageSizeOf: ImageSizeOf): Promise<UsageLine> {
  const line: UsageLine = { total: records.length, active: 0, size: 0, reclaimable: 0, items: [] };
  for (const record of records) {
    const { rw: size, rootFs } = await containerSize(record, imageSizeOf);
    line.size += size;
    line.items.push({ id: record.config.id, size, rootFsSize: rootFs });
    if (record.state.status === 'running') line.active++;
    else line.reclaimable += size;
  }
  return line;
}

// writtenSize is the bytes of the layers a container wrote: its upper dir and its snapshots.
async function writtenSize(record: ContainerRecord): Promise<number> {
  let size = 0;
  for (const dir of writableLayerDirs(record.dir)) size += await treeSize(dir);
  return size;
}
