// The network verbs (`docker network …`): Docker's JSON for the predefined
// networks and the user ones, with the containers on each; rm and prune of
// networks without active endpoints (running containers), as Docker's daemon;
// connect and disconnect of running or stopped containers.
import { createHash } from 'node:crypto';

import { NboxError } from '../errors';
import { parseFilterArgs, type FilterArgs } from '../filter-args';
import type { Store } from '../image/store';
import { bridgeLeases, DEFAULT_BRIDGE, type BridgeNetwork } from './bridge-network';
import { connectRunning, disconnectRunning } from './container-network';
import type { ContainerRecord } from './container-record';
import type { ContainerRegistry } from './container-registry';
import { parseSubnet } from './ipv4';
import { checkLineFields, isUserNetwork, type NetworkEndpoint } from './network';
import { bridgeOf, NetworkStore, PREDEFINED_NETWORKS, type CreateNetworkOptions, type NetworkRecord } from './user-networks';
import { textOrder } from '../order';

/** NetworkContext is what the network verbs need of the library. */
export interface NetworkContext {
  store: Store;
  containers: ContainerRegistry;
}

/** NetworkInspect is Docker's JSON for one network (`network inspect`, GET /networks). */
export interface NetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: string;
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: 'default'; Options: Record<string, string> | null; Config: { Subnet: string; Gateway: string }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** NetworkPruneResult is what `network prune` removed, by name. */
export interface NetworkPruneResult {
  deleted: string[];
}

/** ConnectOptions are `network connect`'s: --alias and --ip. */
export interface ConnectOptions {
  aliases?: string[];
  ip?: string;
}

/** createNetwork makes a user network (`network create`). */
export function createNetwork(ctx: NetworkContext, options: CreateNetworkOptions): Promise<NetworkRecord> {
  return networkStore(ctx).create(options);
}

/** listNetworks are the networks that pass every `key=value` filter: name (a substring), id (a prefix),
 * driver, label (key or key=value), type (builtin or custom); by name, as `network ls` prints them. */
export async function listNetworks(ctx: NetworkContext, filters: string[] = []): Promise<NetworkInspect[]> {
  const parsed = parseFilters(filters);
  const all = await allNetworks(ctx);
  return all.filter((network) => matches(network, parsed)).sort((a, b) => textOrder(a.Name, b.Name));
}

/** inspectNetwork is Docker's JSON for the network a name, ID or unique ID prefix names. */
export async function inspectNetwork(ctx: NetworkContext, ref: string): Promise<NetworkInspect> {
  const containers = await ctx.containers.list();
  const builtin = PREDEFINED_NETWORKS.find((name) => name === ref || predefinedId(name) === ref || (ref.length >= 3 && predefinedId(name).startsWith(ref)));
  if (builtin) return predefinedInspect(builtin, containers);
  return userInspect(await networkStore(ctx).get(ref), containers);
}

/** removeNetwork removes a user network that no running container is on. */
export async function removeNetwork(ctx: NetworkContext, ref: string): Promise<void> {
  if ((PREDEFINED_NETWORKS as readonly string[]).includes(ref)) throw new NboxError('ERR_NBOX_USAGE', `${ref} is a pre-defined network and cannot be removed`);
  await ctx.containers.sweep();
  const store = networkStore(ctx);
  await ctx.store.root.withLock(async () => {
    const network = await store.get(ref);
    const active = bridgeLeases(bridgeOf(network));
    if (active.length > 0) {
      const named = (await ctx.containers.list()).find((record) => record.config.id === active[0].id);
      const endpoint = named ? ` (name:"${named.config.name}" id:"${named.config.id.slice(0, 12)}")` : '';
      throw new NboxError('ERR_NBOX_CONFLICT', `error while removing network: network ${network.name} has active endpoints${endpoint}`);
    }
    await store.remove(network);
  });
}

/** pruneNetworks removes every user network no running container is on (label filters: label, label!). */
export async function pruneNetworks(ctx: NetworkContext, filters: string[] = []): Promise<NetworkPruneResult> {
  const parsed = parseFilters(filters, ['label', 'label!', 'until']);
  await ctx.containers.sweep();
  const store = networkStore(ctx);
  return ctx.store.root.withLock(async () => {
    const deleted: string[] = [];
    for (const network of await store.list()) {
      if (!matchesLabels(network.labels, parsed) || bridgeLeases(bridgeOf(network)).length > 0) continue;
      await store.remove(network);
      deleted.push(network.name);
    }
    return { deleted };
  });
}

/** connectNetwork puts a container on one more user network (`network connect`); a running one gets its link at once. */
export async function connectNetwork(ctx: NetworkContext, networkRef: string, containerRef: string, options: ConnectOptions = {}): Promise<void> {
  const found = await ctx.containers.resolve(containerRef);
  const release = await ctx.containers.lock(found);
  try {
    const record = await ctx.containers.resolve(found.config.id);
    const { config } = record;
    if (config.network === 'host') throw new NboxError('ERR_NBOX_USAGE', 'container cannot be disconnected from host network or connected to host network');
    if (config.network === 'none' || config.network.startsWith('container:')) {
      throw new NboxError('ERR_NBOX_USAGE', 'container sharing network namespace with another container or host cannot be connected to any other network');
    }
    if ((PREDEFINED_NETWORKS as readonly string[]).includes(networkRef)) {
      throw new NboxError('ERR_NBOX_USAGE', `cannot connect a container to the ${networkRef} network after it was created: use a user network`);
    }
    const network = await networkStore(ctx).get(networkRef);
    if (config.networks?.[network.name]) throw new NboxError('ERR_NBOX_CONFLICT', `endpoint with name ${config.name} already exists in network ${network.name}`);
    const endpoint: NetworkEndpoint = { id: network.id, ...(options.aliases?.length ? { aliases: checkLineFields('--alias', options.aliases) } : {}), ...(options.ip ? { ipAddress: options.ip } : {}) };
    const before = config;
    await ctx.containers.setConfig(record, { ...config, networks: { ...config.networks, [network.name]: endpoint } });
    if (record.state.status !== 'running') return;
    try {
      await connectRunning(record, network.name);
    } catch (err) {
      await ctx.containers.setConfig(record, before);
      throw err;
    }
  } finally {
    await release();
  }
}

/** disconnectNetwork takes a container off a network (`network disconnect`); a running one loses its link at once. */
export async function disconnectNetwork(ctx: NetworkContext, networkRef: string, containerRef: string): Promise<void> {
  const found = await ctx.containers.resolve(containerRef);
  const release = await ctx.containers.lock(found);
  try {
    const record = await ctx.containers.resolve(found.config.id);
    const { config } = record;
    const name = networkRef === 'bridge' ? 'bridge' : (await networkStore(ctx).get(networkRef)).name;
    const onIt = name === 'bridge' ? config.network === 'bridge' : !!config.networks?.[name];
    if (!onIt) throw new NboxError('ERR_NBOX_USAGE', `container ${config.id} is not connected to network ${networkRef}`);
    const bridge = name === 'bridge' ? DEFAULT_BRIDGE : bridgeOf((await networkStore(ctx).get(name)));
    const { [name]: _gone, ...networks } = config.networks ?? {};
    // Off its first network, the next one (or none) is its first.
    const network = config.network === name ? Object.keys(networks)[0] ?? 'none' : config.network;
    await ctx.containers.setConfig(record, { ...config, network, networks });
    if (record.state.status === 'running') await disconnectRunning(config.id, bridge);
  } finally {
    await release();
  }
}

function networkStore(ctx: NetworkContext): NetworkStore {
  return new NetworkStore(ctx.store.root);
}

async function allNetworks(ctx: NetworkContext): Promise<NetworkInspect[]> {
  const containers = await ctx.containers.list();
  const users = await networkStore(ctx).list();
  return [...PREDEFINED_NETWORKS.map((name) => predefinedInspect(name, containers)), ...users.map((network) => userInspect(network, containers))];
}

// predefinedId is a predefined network's ID: stable, 64 hex digits as Docker's.
function predefinedId(name: string): string {
  return createHash('sha256').update(`nbox network ${name}`).digest('hex');
}

function predefinedInspect(name: (typeof PREDEFINED_NETWORKS)[number], containers: ContainerRecord[]): NetworkInspect {
  const bridge = name === 'bridge';
  return {
    ...base(name, predefinedId(name), '0001-01-01T00:00:00Z', bridge ? 'bridge' : name === 'host' ? 'host' : 'null'),
    IPAM: { Driver: 'default', Options: null, Config: bridge ? [{ Subnet: DEFAULT_BRIDGE.subnet, Gateway: DEFAULT_BRIDGE.gateway }] : [] },
    Containers: bridge ? members(DEFAULT_BRIDGE, containers) : {},
    Options: bridge ? { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.name': DEFAULT_BRIDGE.bridge } : {},
  };
}

function userInspect(network: NetworkRecord, containers: ContainerRecord[]): NetworkInspect {
  const bridge = bridgeOf(network);
  return {
    ...base(network.name, network.id, network.created, 'bridge'),
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: network.subnet, Gateway: network.gateway }] },
    Internal: network.internal,
    Containers: members(bridge, containers),
    Options: { 'com.docker.network.bridge.name': bridge.bridge },
    Labels: network.labels,
  };
}

function base(name: string, id: string, created: string, driver: string): NetworkInspect {
  return {
    Name: name, Id: id, Created: created, Scope: 'local', Driver: driver, EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false,
    ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: {}, Labels: {},
  };
}

// members are the running containers of this store on the bridge: leases are host-wide, the default bridge's
// are every store's.
function members(bridge: BridgeNetwork, containers: ContainerRecord[]): NetworkInspect['Containers'] {
  const prefix = parseSubnet(bridge.subnet)!.prefix;
  const byId = new Map(containers.map((record) => [record.config.id, record]));
  return Object.fromEntries(bridgeLeases(bridge).filter((lease) => byId.has(lease.id)).map((lease) => [lease.id, {
    Name: byId.get(lease.id)!.config.name, EndpointID: lease.id, MacAddress: lease.mac, IPv4Address: `${lease.address}/${prefix}`, IPv6Address: '',
  }]));
}

type Filters = FilterArgs;

function parseFilters(filters: string[], keys = ['name', 'id', 'driver', 'label', 'label!', 'type', 'scope']): Filters {
  const byKey = parseFilterArgs(filters, keys);
  const badType = byKey.get('type')?.find((value) => value !== 'builtin' && value !== 'custom');
  if (badType !== undefined) throw new NboxError('ERR_NBOX_USAGE', `invalid filter: 'type'='${badType}'`);
  return byKey;
}

function matchesLabels(labels: Record<string, string>, filters: Filters): boolean {
  const has = (value: string) => {
    const eq = value.indexOf('=');
    return eq < 0 ? value in labels : labels[value.slice(0, eq)] === value.slice(eq + 1);
  };
  return (filters.get('label') ?? []).every(has) && !(filters.get('label!') ?? []).some(has);
}

function matches(network: NetworkInspect, filters: Filters): boolean {
  const tests: Record<string, (value: string) => boolean> = {
    name: (value) => network.Name.includes(value),
    id: (value) => network.Id.startsWith(value),
    driver: (value) => network.Driver === value,
    type: (value) => (value === 'custom') === isUserNetwork(network.Name),
    scope: (value) => value === 'local',
  };
  if (!matchesLabels(network.Labels, filters)) return false;
  return [...filters].filter(([key]) => key in tests).every(([key, values]) => values.some(tests[key]));
}
