// A container's place on the bridge network, taken as its init is about to
// start and given back when it ends: the lease, and its /etc/hosts naming its
// address.
import { writeFile } from 'node:fs/promises';

import { attachBridge, releaseBridge } from './bridge-network';
import { containerPaths, processOwner, type ContainerRecord } from './containers';
import { hostsFile } from './etc-files';

/** attachContainer sets up a bridge container's network namespace; it returns its path. */
export async function attachContainer(record: ContainerRecord): Promise<string> {
  const { config } = record;
  const { lease } = await attachBridge(config.id, record.state.owner ?? processOwner(), config.ports ?? []);
  await writeFile(containerPaths(record.dir).hosts, await hostsFile('bridge', config.hostname, lease.address, config.extraHosts));
  return lease.netns;
}

/** releaseContainer gives back a container's lease (none is fine). */
export function releaseContainer(id: string): Promise<void> {
  return releaseBridge(id);
}
