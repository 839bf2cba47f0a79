// inspect's NetworkSettings and ps's PORTS: what a container holds on its
// network now, read from its lease (none once it ended, as Docker clears them).
import { dirname } from 'node:path';

import { bridgeLease, DEFAULT_BRIDGE, routeGateway, type BridgeNetwork, type Lease } from './bridge-network';
import type { ContainerRecord } from './container-record';
import { parseSubnet } from './ipv4';
import { formatPorts, portKey, type PortBinding } from './ports';
import { containerBridges, userEndpoints, type UserEndpoint } from './user-networks';

/** EndpointSettings is one entry of NetworkSettings.Networks. */
export interface EndpointSettings {
  IPAMConfig: null;
  Links: null;
  Aliases: string[] | null;
  MacAddress: string;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DriverOpts: null;
  DNSNames: string[] | null;
}

/** NetworkSettings is Docker's, IPv4 only. */
export interface NetworkSettings {
  Bridge: string;
  SandboxID: string;
  SandboxKey: string;
  Ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  MacAddress: string;
  Networks: Record<string, EndpointSettings>;
}

/** networkNames are the networks a container is on, its first one first: NetworkSettings.Networks' names, read
 * from its config alone (ps's NETWORKS). A container sharing another's network has none of its own. */
export function networkNames(config: ContainerRecord['config']): string[] {
  const own = config.network === 'bridge' || config.network === 'host' || config.network === 'none' ? [config.network] : [];
  const users = Object.keys(config.networks ?? {}).sort((a, b) => Number(b === config.network) - Number(a === config.network));
  return [...own, ...users];
}

/** networkSettings is a container's NetworkSettings as inspect shows it. */
export function networkSettings(record: ContainerRecord): NetworkSettings {
  const { config } = record;
  const lease = config.network === 'bridge' ? bridgeLease(config.id) : undefined;
  const users = userNetworks(record);
  const first = lease ? { lease, bridge: DEFAULT_BRIDGE } : users[0] && users[0].lease ? { lease: users[0].lease, bridge: users[0].bridge } : undefined;
  const prefix = first ? parseSubnet(first.bridge.subnet)!.prefix : 0;
  const gateway = first ? routeGateway(first.bridge) ?? '' : '';
  const networks: Record<string, EndpointSettings> = {};
  // A container sharing another's network has none of its own, as Docker shows it.
  if (config.network === 'bridge' || config.network === 'host' || config.network === 'none') networks[config.network] = endpointSettings(record, config.network, DEFAULT_BRIDGE, lease, undefined);
  for (const user of users) networks[user.network.name] = endpointSettings(record, user.network.id, user.bridge, user.lease, user);
  return {
    Bridge: '',
    SandboxID: first ? config.id : '',
    SandboxKey: first?.lease.netns ?? '',
    Ports: first ? portMap(first.lease.ports, config.exposedPorts ?? []) : {},
    Gateway: gateway,
    IPAddress: first?.lease.address ?? '',
    IPPrefixLen: prefix,
    MacAddress: first?.lease.mac ?? '',
    Networks: networks,
  };
}

function endpointSettings(record: ContainerRecord, networkId: string, bridge: BridgeNetwork, lease: Lease | undefined, user: UserEndpoint | undefined): EndpointSettings {
  const aliases = user?.endpoint.aliases ?? [];
  return {
    IPAMConfig: null, Links: null, Aliases: user ? aliases : null, MacAddress: lease?.mac ?? '', NetworkID: networkId, EndpointID: lease ? record.config.id : '',
    Gateway: lease ? routeGateway(bridge) ?? '' : '', IPAddress: lease?.address ?? '', IPPrefixLen: lease ? parseSubnet(bridge.subnet)!.prefix : 0,
    IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DriverOpts: null,
    DNSNames: user ? [record.config.name, record.config.id.slice(0, 12), ...aliases] : null,
  };
}

// userNetworks are the container's user networks with its lease on each (none while it is stopped).
function userNetworks(record: ContainerRecord): (UserEndpoint & { lease?: Lease })[] {
  try {
    return userEndpoints(record.config, storeDirOf(record)).map((user) => ({ ...user, lease: bridgeLease(record.config.id, user.bridge) }));
  } catch {
    // A network removed since: inspect still shows the container.
    return [];
  }
}

/** publishedPorts are the ports a container publishes now (while it holds its lease on its first network). */
export function publishedPorts(record: ContainerRecord): PortBinding[] {
  return firstLease(record)?.ports ?? [];
}

// firstLease is the lease a container holds on its first network while it runs (its published ports are there).
function firstLease(record: ContainerRecord): ReturnType<typeof bridgeLease> {
  const [bridge] = containerBridges(record.config, storeDirOf(record));
  return bridge ? bridgeLease(record.config.id, bridge) : undefined;
}

function storeDirOf(record: ContainerRecord): string {
  return dirname(dirname(record.dir));
}

/** psPorts is ps's PORTS column. */
export function psPorts(record: ContainerRecord): string {
  const lease = firstLease(record);
  // While it runs on a network of its own, as Docker: its exposed ports too, unpublished (`80/tcp`).
  return lease ? formatPorts(lease.ports, record.config.exposedPorts) : '';
}

// portMap is NetworkSettings.Ports: each exposed port's bindings, null for one not published; its keys in
// the order Go marshals a map's.
function portMap(ports: PortBinding[], exposed: string[]): NetworkSettings['Ports'] {
  const map: NetworkSettings['Ports'] = Object.fromEntries(exposed.map((key) => [key, null]));
  for (const port of ports) (map[portKey(port)] ??= [])!.push({ HostIp: port.hostIp || '0.0.0.0', HostPort: String(port.hostPort) });
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : 1)));
}
