// A container's place on the bridge network or on its user networks, taken as
// its init is about to start and given back when it ends: the leases, and its
// /etc/hosts naming its address (and, on user networks, its peers).
import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { attachBridge, bridgeLease, refreshPeers, releaseBridge, routeGateway, type BridgeNetwork } from './bridge-network';
import { NboxError } from '../errors';
import { addon } from '../sys/addon';
import { containerPaths, type ContainerConfig, type ContainerRecord } from './container-record';
import { processOwner } from './container-state';
import { hostsFile } from './etc-files';
import { containerBridges, userEndpoints, type UserEndpoint } from './user-networks';

// The published ports still being written, by container: the start they overlap awaits them (networkReady).
const pendingPorts = new Map<string, Promise<void>>();

/** attachContainer sets up a bridge or user-network container's network namespace; it returns its path and the
 * address on its first network. */
export async function attachContainer(record: ContainerRecord): Promise<{ netns: string; address: string }> {
  const { config } = record;
  const owner = record.state.owner ?? processOwner();
  const hosts = containerPaths(record.dir).hosts;
  const users = userEndpoints(config, storeDirOf(record));
  // The first network (the default bridge, or a user network) makes the namespace; the others join it.
  const first = config.network === 'bridge' ? undefined : users[0];
  const more = first ? users.slice(1) : users;
  const { lease, network, portsReady } = await attachBridge(config.id, owner, config.ports ?? [], first?.bridge, first && endpointOptions(config, first, hosts));
  pendingPorts.set(config.id, portsReady);
  try {
    // As Docker: the first network with a way out (not --internal) gives the default route.
    let routed = routeGateway(network) !== undefined;
    for (const [index, endpoint] of more.entries()) {
      const route = !routed && routeGateway(endpoint.bridge) !== undefined;
      routed ||= route;
      await attachBridge(config.id, owner, [], endpoint.bridge, { ...endpointOptions(config, endpoint, hosts), join: { netns: lease.netns, ifName: `eth${index + 1}`, route } });
    }
    await writeFile(hosts, await hostsFile('bridge', config.hostname, lease.address, config.extraHosts));
    for (const endpoint of users) await refreshPeers(endpoint.bridge);
  } catch (err) {
    await portsReady.catch(() => {});
    await releaseContainer(record);
    throw err;
  }
  return { netns: lease.netns, address: lease.address };
}

/** connectRunning puts a running container on one more user network: a link named ethN in its namespace. */
export async function connectRunning(record: ContainerRecord, name: string): Promise<void> {
  const { config } = record;
  const endpoints = userEndpoints(config, storeDirOf(record));
  const endpoint = endpoints.find((candidate) => candidate.network.name === name)!;
  const leases = containerBridges(config, storeDirOf(record)).map((bridge) => bridgeLease(config.id, bridge)).filter((lease) => lease !== undefined);
  // The namespace is kept on its first network's file (the addon opens no magic link such as /proc/PID/ns/net).
  const kept = leases.find((lease) => !lease.joined);
  if (!kept) throw new NboxError('ERR_NBOX_CONFLICT', `container ${config.id} has no network namespace of its own to connect (restart it)`);
  const taken = new Set(leases.map((lease) => lease.ifName ?? 'eth0'));
  let index = 1;
  while (taken.has(`eth${index}`)) index++;
  // A container whose networks so far are all --internal gets its default route through this one, as in Docker.
  const routed = containerBridges(config, storeDirOf(record)).some((bridge) => bridge.bridge !== endpoint.bridge.bridge && bridgeLease(config.id, bridge) && routeGateway(bridge) !== undefined);
  await attachBridge(config.id, record.state.owner ?? processOwner(), [], endpoint.bridge, {
    ...endpointOptions(config, endpoint, containerPaths(record.dir).hosts), join: { netns: kept.netns, ifName: `eth${index}`, route: !routed },
  });
  await refreshPeers(endpoint.bridge);
}

/** disconnectRunning takes a running container off one of its networks (its link, lease and names). */
export async function disconnectRunning(id: string, bridge: BridgeNetwork): Promise<void> {
  const lease = bridgeLease(id, bridge);
  // The namespace outlives the lease (the container runs on): its link to this bridge goes by hand.
  if (lease) {
    try {
      addon().netLinkDelete(lease.hostIf);
    } catch {
      // Gone already.
    }
  }
  await releaseBridge(id, bridge);
}

/** networkReady resolves once the container's published ports answer (at once without any). */
export async function networkReady(id: string): Promise<void> {
  const pending = pendingPorts.get(id);
  pendingPorts.delete(id);
  await pending;
}

/** releaseContainer gives back a container's leases (none is fine). */
export async function releaseContainer(record: ContainerRecord): Promise<void> {
  for (const bridge of containerBridges(record.config, storeDirOf(record))) await releaseBridge(record.config.id, bridge);
}

// The names a container answers to on a user network, as Docker's DNS answers them: its name, short ID and aliases.
function endpointOptions(config: ContainerConfig, endpoint: UserEndpoint, hosts: string) {
  const names = [...new Set([config.name, config.id.slice(0, 12), ...(endpoint.endpoint.aliases ?? [])])];
  return { address: endpoint.endpoint.ipAddress, names, hosts };
}

function storeDirOf(record: ContainerRecord): string {
  return dirname(dirname(record.dir));
}
