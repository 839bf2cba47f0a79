// User networks (`network create`): records in the store's networks/<id>.json,
// as Docker keeps them per daemon. Their bridges and subnets are host-wide, so
// a subnet is claimed in /run/nbox/networks/subnets.json (under its own lock)
// as well: two stores never pick the same one, and none is podman's, Docker's
// or the default bridge's. A network's bridge link and nftables table exist
// only while a container is on it (bridge-network.ts brings them up and down).
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { NboxError, isErrno } from '../errors';
import { lockFile } from '../store/lock';
import type { StoreRoot } from '../store/root';
import { randomBytes } from '../sys/random';
import { DEFAULT_BRIDGE, sweepBridgeLeases, type BridgeNetwork } from './bridge-network';
import type { NetworkEndpoint, NetworkMode } from './network';
import { contains, formatAddress, formatSubnet, overlaps, parseAddress, parseProcRoutes, parseSubnet, type Subnet } from './ipv4';
import { textOrder } from '../order';
import { isoTime } from '../iso-time';

/** NetworkRecord is one user network as kept in the store. */
export interface NetworkRecord {
  id: string;
  name: string;
  /** RFC 3339, as Docker's Created. */
  created: string;
  driver: 'bridge';
  subnet: string;
  gateway: string;
  /** --internal: no route out of the network. */
  internal: boolean;
  labels: Record<string, string>;
}

/** CreateNetworkOptions are `network create`'s flags. */
export interface CreateNetworkOptions {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  internal?: boolean;
  labels?: Record<string, string>;
}

/** PREDEFINED_NETWORKS are Docker's, never a user network's name. */
export const PREDEFINED_NETWORKS = ['bridge', 'host', 'none'] as const;

/** NETWORK_NAME is Docker's rule for a network's name. */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** USER_BRIDGE_PREFIX starts every user network's bridge link: the isolation rules match it. */
export const USER_BRIDGE_PREFIX = 'nbox-';

/** The blocks new networks get: 10.92.0.0/24 up to 10.99.255.0/24 (10.91 is left to tests' own default bridges), clear of podman's 10.88/10.89,
 * Docker's 172.17-31 and the default bridge's 10.90. */
const POOL_FIRST = (10 << 24) | (92 << 16);
const POOL_LAST = (10 << 24) | (99 << 16) | (255 << 8);
const POOL_PREFIX = 24;

const CLAIMS_DIR = '/run/nbox/networks';
const CLAIMS = join(CLAIMS_DIR, 'subnets.json');
const CLAIMS_LOCK = join(CLAIMS_DIR, 'subnets.lock');

/** Claims map a subnet to the network record that holds it (its path, so a deleted store's claim is seen as stale). */
type Claims = Record<string, string>;

/** bridgeOf is a user network's host side: its own bridge link and table, isolated from every other nbox network. */
export function bridgeOf(network: NetworkRecord): BridgeNetwork {
  const short = network.id.slice(0, 10);
  return {
    name: network.name, bridge: `${USER_BRIDGE_PREFIX}${short}`, subnet: network.subnet, gateway: network.gateway, table: `nbox_${short}`,
    isolation: { others: [`${USER_BRIDGE_PREFIX}*`, DEFAULT_BRIDGE.bridge], internal: network.internal },
  };
}

/** UserEndpoint is one user network of a container, with its record and its endpoint. */
export interface UserEndpoint {
  network: NetworkRecord;
  bridge: BridgeNetwork;
  endpoint: NetworkEndpoint;
}

/** userEndpoints are the user networks a container is on, its first network first; storeDir is its store's root.
 * A network removed since is Docker's "not found". */
export function userEndpoints(config: { network: NetworkMode; networks?: Record<string, NetworkEndpoint> }, storeDir: string): UserEndpoint[] {
  return Object.entries(config.networks ?? {})
    .sort(([a], [b]) => Number(b === config.network) - Number(a === config.network))
    .map(([name, endpoint]) => {
      const network = readNetwork(storeDir, endpoint.id);
      if (!network) throw new NboxError('ERR_NBOX_NO_SUCH_NETWORK', `network ${name} not found`);
      return { network, bridge: bridgeOf(network), endpoint };
    });
}

/** containerBridges are the bridges a container may hold leases on: the default one if it is its first, and its user networks' that remain. */
export function containerBridges(config: { network: NetworkMode; networks?: Record<string, NetworkEndpoint> }, storeDir: string): BridgeNetwork[] {
  const users = Object.values(config.networks ?? {}).map((endpoint) => readNetwork(storeDir, endpoint.id)).filter((network): network is NetworkRecord => !!network);
  return [...(config.network === 'bridge' ? [DEFAULT_BRIDGE] : []), ...users.map(bridgeOf)];
}

/** sweepUserNetworks releases the leases of dead owners on the store's user networks (sweepBridgeLeases). */
export async function sweepUserNetworks(root: StoreRoot): Promise<void> {
  const records = await new NetworkStore(root).list();
  await Promise.all(records.map((network) => sweepBridgeLeases(bridgeOf(network))));
}

function readNetwork(storeDir: string, id: string): NetworkRecord | undefined {
  if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
  try {
    return JSON.parse(readFileSync(join(storeDir, 'networks', `${id}.json`), 'utf8')) as NetworkRecord;
  } catch {
    return undefined;
  }
}

/** NetworkStore is the store's networks/ directory. */
export class NetworkStore {
  constructor(private readonly root: StoreRoot) {}

  private path(id: string): string {
    return join(this.root.networksDir, `${id}.json`);
  }

  /** list reads every network record, by name. */
  async list(): Promise<NetworkRecord[]> {
    // A few small records, read at once: each store open's sweep lists them.
    const files = existsSync(this.root.networksDir) ? readdirSync(this.root.networksDir) : [];
    const records = files.filter((file) => /^[0-9a-f]{64}\.json$/.test(file)).map((file) => readRecord(join(this.root.networksDir, file)));
    return records.filter((record): record is NetworkRecord => record !== null).sort((a, b) => textOrder(a.name, b.name));
  }

  /** find resolves a network by name, full ID or unique ID prefix, in Docker's order. */
  async find(ref: string): Promise<NetworkRecord | undefined> {
    const all = await this.list();
    const found = all.find((network) => network.name === ref) ?? all.find((network) => network.id === ref);
    if (found) return found;
    const prefixed = ref.length > 0 ? all.filter((network) => network.id.startsWith(ref)) : [];
    if (prefixed.length > 1) throw new NboxError('ERR_NBOX_CONFLICT', `network ${ref} is ambiguous (${prefixed.length} matches found based on ID prefix)`);
    return prefixed[0];
  }

  /** get is find, or Docker's "not found". */
  async get(ref: string): Promise<NetworkRecord> {
    const found = await this.find(ref);
    if (!found) throw new NboxError('ERR_NBOX_NO_SUCH_NETWORK', `network ${ref} not found`);
    return found;
  }

  /** create checks the options as Docker's daemon does and records the network, its subnet claimed host-wide. */
  async create(options: CreateNetworkOptions): Promise<NetworkRecord> {
    const driver = options.driver ?? 'bridge';
    if (driver !== 'bridge') throw new NboxError('ERR_NBOX_USAGE', `plugin "${driver}" not found`);
    if (!NETWORK_NAME.test(options.name)) {
      throw new NboxError('ERR_NBOX_USAGE', `invalid network name "${options.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const requested = options.subnet === undefined ? undefined : parseSubnet(options.subnet);
    if (options.subnet !== undefined && !requested) throw new NboxError('ERR_NBOX_USAGE', `invalid CIDR address: ${options.subnet}`);
    if (options.gateway !== undefined && !requested) throw new NboxError('ERR_NBOX_USAGE', 'every ip-range or gateway must have a corresponding subnet');
    return this.root.withLock(async () => {
      if ((PREDEFINED_NETWORKS as readonly string[]).includes(options.name) || (await this.list()).some((network) => network.name === options.name)) {
        throw new NboxError('ERR_NBOX_CONFLICT', `network with name ${options.name} already exists`);
      }
      const id = randomBytes(32).toString('hex');
      return withClaims(async (claims) => {
        const subnet = requested ? checkedSubnet(requested, claims) : freeSubnet(claims);
        const gateway = gatewayOf(subnet, options.gateway);
        const record: NetworkRecord = {
          id, name: options.name, created: isoTime(), driver: 'bridge', subnet: formatSubnet(subnet), gateway,
          internal: options.internal ?? false, labels: options.labels ?? {},
        };
        await writeFile(`${this.path(id)}.tmp`, JSON.stringify(record, null, 2));
        await rename(`${this.path(id)}.tmp`, this.path(id));
        return { claims: { ...claims, [record.subnet]: this.path(id) }, result: record };
      });
    });
  }

  /** remove deletes a network's record and gives back its subnet; the caller checked that no container is on it. */
  async remove(network: NetworkRecord): Promise<void> {
    await unlink(this.path(network.id)).catch((err: unknown) => {
      if (!isErrno(err, 'ENOENT')) throw err;
    });
    await withClaims(async (claims) => {
      const { [network.subnet]: held, ...rest } = claims;
      return { claims: held === this.path(network.id) ? rest : claims, result: undefined };
    });
  }
}

function readRecord(path: string): NetworkRecord | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as NetworkRecord;
  } catch {
    return null;
  }
}

// usedSubnets are the blocks a new network must not overlap: the default bridge's, the ones claimed by a
// network that still exists, and the host's routes (a removed network's bridge lingering a moment among them).
function usedSubnets(claims: Claims): Subnet[] {
  const routes = parseProcRoutes(readFileSync('/proc/net/route', 'utf8')).filter((route) => route.subnet.prefix > 0).map((route) => route.subnet);
  const claimed = Object.entries(claims).filter(([, holder]) => existsSync(holder)).map(([subnet]) => parseSubnet(subnet)!);
  return [parseSubnet(DEFAULT_BRIDGE.subnet)!, ...claimed, ...routes];
}

function checkedSubnet(subnet: Subnet, claims: Claims): Subnet {
  if (subnet.prefix > 30) throw new NboxError('ERR_NBOX_USAGE', `invalid subnet ${formatSubnet(subnet)}: too small for a network`);
  if (usedSubnets(claims).some((used) => overlaps(used, subnet))) {
    throw new NboxError('ERR_NBOX_CONFLICT', 'invalid pool request: Pool overlaps with other one on this address space');
  }
  return subnet;
}

function freeSubnet(claims: Claims): Subnet {
  const used = usedSubnets(claims);
  for (let base = POOL_FIRST; base <= POOL_LAST; base += 1 << (32 - POOL_PREFIX)) {
    const subnet = { base: base >>> 0, prefix: POOL_PREFIX };
    if (!used.some((other) => overlaps(other, subnet))) return subnet;
  }
  throw new NboxError('ERR_NBOX_CONFLICT', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

function gatewayOf(subnet: Subnet, requested: string | undefined): string {
  if (requested === undefined) return formatAddress(subnet.base + 1);
  const address = parseAddress(requested);
  if (address === undefined || !contains(subnet, address) || address === subnet.base) {
    throw new NboxError('ERR_NBOX_USAGE', `no matching subnet for gateway ${requested}`);
  }
  return requested;
}

// withClaims runs change holding the claims' lock and writes the claims it returns.
async function withClaims<T>(change: (claims: Claims) => Promise<{ claims: Claims; result: T }>): Promise<T> {
  mkdirSync(CLAIMS_DIR, { recursive: true, mode: 0o700 });
  const release = await lockFile(CLAIMS_LOCK);
  try {
    const claims = await readFile(CLAIMS, 'utf8').then((text) => JSON.parse(text) as Claims, () => ({}));
    // A claim whose record is gone (its store deleted without `network rm`) is dropped.
    const live = Object.fromEntries(Object.entries(claims).filter(([, holder]) => existsSync(holder)));
    const { claims: next, result } = await change(live);
    await writeFile(`${CLAIMS}.tmp`, JSON.stringify(next));
    await rename(`${CLAIMS}.tmp`, CLAIMS);
    return result;
  } finally {
    await release();
  }
}
