// Stopped containers and the space containers hold: `docker container prune`
// and the Containers line of `docker system df`. A container's size is its
// writable layer's, as Docker's SizeRw.
import type { UsageLine } from '../image/disk-usage';
import { treeSize } from '../image/tree-size';
import { containerPaths, type ContainerRecord, type ContainerRegistry } from './containers';

// A container being started is "created" with its owner set: it is not stopped.
function stopped(record: ContainerRecord): boolean {
  return record.state.status === 'exited' || (record.state.status === 'created' && record.state.owner === undefined);
}

/** pruneStoppedContainers removes every stopped container: their IDs and the bytes their writable layers held. */
export async function pruneStoppedContainers(registry: ContainerRegistry): Promise<{ deleted: string[]; spaceReclaimed: number }> {
  const deleted: string[] = [];
  let spaceReclaimed = 0;
  for (const record of (await registry.list()).filter(stopped)) {
    spaceReclaimed += await treeSize(containerPaths(record.dir).upper);
    await registry.remove(record);
    deleted.push(record.config.id);
  }
  return { deleted, spaceReclaimed };
}

/** containerUsage counts containers, the running ones, and their writable layers' bytes (all but the running ones' reclaimable). */
export async function containerUsage(records: ContainerRecord[]): Promise<UsageLine> {
  const line: UsageLine = { total: records.length, active: 0, size: 0, reclaimable: 0 };
  for (const record of records) {
    const size = await treeSize(containerPaths(record.dir).upper);
    line.size += size;
    if (record.state.status === 'running') line.active++;
    else line.reclaimable += size;
  }
  return line;
}
