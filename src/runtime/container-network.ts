// A container's place on the bridge network, taken as its init is about to
// start and given back when it ends: the lease, and its /etc/hosts naming its
// address.
import { writeFile } from 'node:fs/promises';

import { attachBridge, releaseBridge } from './bridge-network';
import { containerPaths, processOwner, type ContainerRecord } from './containers';
import { hostsFile } from './etc-files';

// The published ports still being written, by container: the start they overlap awaits them (networkReady).
const pendingPorts = new Map<string, Promise<void>>();

/** attachContainer sets up a bridge container's network namespace; it returns its path. */
export async function attachContainer(record: ContainerRecord): Promise<string> {
  const { config } = record;
  const { lease, portsReady } = await attachBridge(config.id, record.state.owner ?? processOwner(), config.ports ?? []);
  pendingPorts.set(config.id, portsReady);
  await writeFile(containerPaths(record.dir).hosts, await hostsFile('bridge', config.hostname, lease.address, config.extraHosts));
  return lease.netns;
}

/** networkReady resolves once the container's published ports answer (at once without any). */
export async function networkReady(id: string): Promise<void> {
  const pending = pendingPorts.get(id);
  pendingPorts.delete(id);
  await pending;
}

/** releaseContainer gives back a container's lease (none is fine). */
export function releaseContainer(id: string): Promise<void> {
  return releaseBridge(id);
}
