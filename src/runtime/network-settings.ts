// inspect's NetworkSettings and ps's PORTS: what a container holds on its
// network now, read from its lease (none once it ended, as Docker clears them).
import { bridgeLease, DEFAULT_BRIDGE } from './bridge-network';
import type { ContainerRecord } from './containers';
import { parseSubnet } from './ipv4';
import { formatPorts, portKey, type PortBinding } from './ports';

/** EndpointSettings is one entry of NetworkSettings.Networks. */
export interface EndpointSettings {
  IPAMConfig: null;
  Links: null;
  Aliases: null;
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
  DNSNames: null;
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

/** networkSettings is a container's NetworkSettings as inspect shows it. */
export function networkSettings(record: ContainerRecord): NetworkSettings {
  const { config } = record;
  const lease = config.network === 'bridge' ? bridgeLease(config.id) : undefined;
  const prefix = lease ? parseSubnet(DEFAULT_BRIDGE.subnet)!.prefix : 0;
  const gateway = lease ? DEFAULT_BRIDGE.gateway : '';
  const endpoint: EndpointSettings = {
    IPAMConfig: null, Links: null, Aliases: null, MacAddress: lease?.mac ?? '', NetworkID: config.network, EndpointID: lease ? config.id : '',
    Gateway: gateway, IPAddress: lease?.address ?? '', IPPrefixLen: prefix, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
    DriverOpts: null, DNSNames: null,
  };
  return {
    Bridge: '',
    SandboxID: lease ? config.id : '',
    SandboxKey: lease?.netns ?? '',
    Ports: lease ? portMap(lease.ports) : {},
    Gateway: gateway,
    IPAddress: lease?.address ?? '',
    IPPrefixLen: prefix,
    MacAddress: lease?.mac ?? '',
    // A container sharing another's network has none of its own, as Docker shows it.
    Networks: config.network.startsWith('container:') ? {} : { [config.network]: endpoint },
  };
}

/** publishedPorts are the ports a container publishes now (while it holds its lease). */
export function publishedPorts(record: ContainerRecord): PortBinding[] {
  return record.config.network === 'bridge' ? bridgeLease(record.config.id)?.ports ?? [] : [];
}

/** psPorts is ps's PORTS column. */
export function psPorts(record: ContainerRecord): string {
  return formatPorts(publishedPorts(record));
}

function portMap(ports: PortBinding[]): NetworkSettings['Ports'] {
  const map: NetworkSettings['Ports'] = {};
  for (const port of ports) (map[portKey(port)] ??= [])!.push({ HostIp: port.hostIp || '0.0.0.0', HostPort: String(port.hostPort) });
  return map;
}
