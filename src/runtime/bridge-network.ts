// The default bridge network: each container gets a network namespace of its
// own, set up before its init starts (so its command finds eth0, its address
// and a default route), linked to the host's bridge by a veth pair; egress and
// published ports go through nbox's nftables table.
//
// Leases are host-wide, as netavark keeps its state in /run whatever the store:
// one bridge serves every store on the host, so their containers' addresses
// must come from one list. A lease names the process that answers for it (the
// nbox of a foreground container, the monitor of a detached one); a lease
// whose process died is released by the next store open.
//
// The bridge and the table go two seconds after the last lease (LINGER_SECONDS),
// by a detached shell that takes the lock and checks again: a new lease in
// between keeps them. Setting them up costs an `nft` run (60-130 ms on a
// loaded host, most of a whole `run`), which a series of short containers
// then pays once, not every time.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';

import { NboxError, SysError, isErrno } from '../errors';
import { lockFile, tryLockFile } from '../store/lock';
import { addon, type Addon } from '../sys/addon';
import { pidNamespace, processStartTime } from '../sys/proc';
import type { ProcessIdentity } from './container-state';
import { contains, formatAddress, formatSubnet, overlaps, parseAddress, parseProcRoutes, parseSubnet, size, type Subnet } from './ipv4';
import { startProgram } from '../sys/program';
import { addPorts, commitNft, deleteTableScript, removePorts, runNft, tableScript, type Isolation, type PortRule } from './nft';
import { writePeerHosts, type PeerEntry } from './peer-hosts';
import { bindingsClash, portAllocated, type PortBinding } from './ports';

/** BridgeNetwork is the default network's host side. */
export interface BridgeNetwork {
  /** Docker's name for it. */
  name: string;
  /** The host's bridge link. */
  bridge: string;
  /** Neither podman's 10.88.0.0/16 nor Docker's 172.17.0.0/16 (nor the 10.89 and 172.18-31 blocks of their user networks). */
  subnet: string;
  gateway: string;
  /** nbox's nftables table (ip family). */
  table: string;
  /** A user network's: kept apart from the other networks, its members named in each other's /etc/hosts. */
  isolation?: Isolation;
}

export const DEFAULT_BRIDGE: BridgeNetwork = bridgeFromEnv(process.env) ?? { name: 'bridge', bridge: 'nbox0', subnet: '10.90.0.0/16', gateway: '10.90.0.1', table: 'nbox' };

/** bridgeFromEnv reads NBOX_BRIDGE (a link name) and NBOX_BRIDGE_SUBNET (CIDR): another bridge, subnet
 * and table for the default network, so that tests running side by side each get their own. */
export function bridgeFromEnv(env: NodeJS.ProcessEnv): BridgeNetwork | undefined {
  const bridge = env.NBOX_BRIDGE;
  const subnet = parseSubnet(env.NBOX_BRIDGE_SUBNET ?? '');
  if (!bridge || !subnet) return undefined;
  if (!/^[a-z][a-z0-9]{0,14}$/.test(bridge)) throw new NboxError('ERR_NBOX_USAGE', `NBOX_BRIDGE ${bridge}: a link name of lowercase letters and digits (at most 15)`);
  return { name: 'bridge', bridge, subnet: formatSubnet(subnet), gateway: formatAddress(subnet.base + 1), table: `nbox_${bridge}` };
}

/** routeGateway is the gateway a network's containers route through: none (undefined) on an internal
 * network, which Docker gives no default route, so that nothing leaves it. */
export function routeGateway(network: BridgeNetwork): string | undefined {
  return network.isolation?.internal ? undefined : network.gateway;
}

/** STATE_DIR holds the leases and the network namespaces' files; /run is gone after a reboot, as they are. */
const STATE_DIR = '/run/nbox/networks';

/** Lease is one container's place on the bridge. */
export interface Lease {
  id: string;
  address: string;
  mac: string;
  /** The host's end of the veth pair. */
  hostIf: string;
  /** The file its network namespace is kept on. */
  netns: string;
  owner: ProcessIdentity;
  ports: PortRule[];
  /** The link's name in the container; eth0 when absent. */
  ifName?: string;
  /** Set when the namespace is another lease's (a network connected to a running container): it is not this lease's to release. */
  joined?: boolean;
  /** On a user network: the names the container answers to there, and its hosts file (peer-hosts.ts). */
  names?: string[];
  hosts?: string;
}

type Leases = Record<string, Lease>;

/** Attachment is what a container on the bridge is given. */
export interface Attachment {
  lease: Lease;
  network: BridgeNetwork;
  prefix: number;
  /** Resolves once its published ports are in the table: the `nft` run overlaps the container's start. */
  portsReady: Promise<void>;
}

/** AttachOptions are a user network's endpoint: --ip, the names, and for a network connected later the namespace it joins. */
export interface AttachOptions {
  address?: string;
  names?: string[];
  hosts?: string;
  /** The namespace of the container's first network, and the link's name in it (eth1…). Its default route
   * goes through this network only with `route`: when none of the container's other networks gives one. */
  join?: { netns: string; ifName: string; route?: boolean };
}

/** attachBridge leases an address for container id and sets up its namespace
 * (veth, address, default route); the container's init joins lease.netns. */
export async function attachBridge(id: string, owner: ProcessIdentity, ports: PortBinding[] = [], network = DEFAULT_BRIDGE, options: AttachOptions = {}): Promise<Attachment> {
  const subnet = parseSubnet(network.subnet)!;
  const attached = await withLeases(network, async (leases) => {
    // A lease left by this container's last run (a monitor killed meanwhile) is replaced.
    if (leases[id] && !leases[id].joined) dropNamespace(leases[id]);
    const others = Object.values(leases).filter((other) => other.id !== id);
    // Checked when run read -p; a container that took one of these meanwhile wins it.
    const clash = ports.find((port) => heldElsewhere(port, others));
    if (clash) throw portAllocated(clash);
    const up = existsSync(upMarker(network));
    // A table an older nbox wrote (its marker names another layout) is written whole: its rules may lack a fix.
    const tableCurrent = up && readFileSync(upMarker(network), 'utf8') === TABLE_LAYOUT;
    if (!up) bridgeUp(network, subnet);
    const address = options.address === undefined ? freeAddress(network, subnet, others) : requestedAddress(network, subnet, others, options.address);
    const lease: Lease = {
      id, address: formatAddress(address), mac: macOf(address), hostIf: hostLinkName(id, network), netns: options.join?.netns ?? join(STATE_DIR, `${network.bridge}-${id}`), owner,
      ports: ports.map((port) => ({ ...port, address: formatAddress(address) })),
      ...(options.join ? { ifName: options.join.ifName, joined: true } : {}),
      ...(options.names ? { names: options.names, hosts: options.hosts } : {}),
    };
    const next = { ...Object.fromEntries(others.map((other) => [other.id, other])), [id]: lease };
    // The table comes up with the bridge (egress must work from the container's first packet);
    // published ports are added by portsReady below.
    if (!tableCurrent) await applyTable(network, next);
    if (!tableCurrent) writeFileSync(upMarker(network), TABLE_LAYOUT);
    // A first run's ports go into the table's maps at once; a new run of a container that had ports, or a table
    // that is not as nbox left it, has the table rewritten.
    const rewrite = tableCurrent && (leases[id]?.ports.length ? true : !tryAddPorts(network, lease.ports));
    return { leases: next, result: { lease, rewrite } };
  }).then(({ lease, rewrite }) => ({ lease, portsReady: rewrite ? applyLatestTable(network) : Promise.resolve() }));
  const { lease, portsReady } = attached;
  try {
    if (!lease.joined) {
      closeSync(openSync(lease.netns, 'w', 0o600));
      addon().netnsCreate(lease.netns);
    }
    // A second network of the container (it joins its namespace), unless the first ones give no route out,
    // or an internal one adds no default route: gateway 0.
    const gateway = lease.joined && !options.join?.route ? undefined : routeGateway(network);
    vethAttach({
      netns: lease.netns, bridge: network.bridge, hostIf: lease.hostIf, ifName: lease.ifName ?? 'eth0', mac: Buffer.from(lease.mac.split(':').map((byte) => parseInt(byte, 16))),
      address: lease.address, prefix: subnet.prefix, gateway: gateway ?? '0.0.0.0',
    });
  } catch (err) {
    await portsReady.catch(() => {});
    await releaseBridge(id, network);
    throw err;
  }
  portsReady.catch(() => {});
  return { lease, network, prefix: subnet.prefix, portsReady };
}

// tryAddPorts puts ports in the network's table: false if it could not (a table changed by hand).
function tryAddPorts(network: BridgeNetwork, ports: PortRule[]): boolean {
  try {
    addPorts(network.table, ports);
    return true;
  } catch {
    return false;
  }
}

// applyLatestTable writes the table from the leases as they are when it gets the lock, so table
// writes started in any order leave the last state; with no lease left there is no table to write.
function applyLatestTable(network: BridgeNetwork): Promise<void> {
  return withLeases(network, async (leases) => {
    if (Object.keys(leases).length > 0 && existsSync(upMarker(network))) await applyTable(network, leases);
    return { leases, result: undefined };
  });
}

/** refreshPeers writes the network's member list into every member's /etc/hosts (a user network's). */
export function refreshPeers(network: BridgeNetwork): Promise<void> {
  return withLeases(network, async (leases) => {
    writePeerHosts(network.name, peers(leases), []);
    return { leases, result: undefined };
  });
}

/** releaseBridge gives back container id's lease, if it has one; the last one takes the bridge and table down. */
export async function releaseBridge(id: string, network = DEFAULT_BRIDGE): Promise<void> {
  await withLeases(network, async (leases) => {
    const lease = leases[id];
    if (!lease) return { leases, result: undefined };
    const { [id]: _gone, ...rest } = leases;
    await dropLeases(network, [lease], rest);
    return { leases: rest, result: undefined };
  });
}

/** sweepBridgeLeases releases the leases whose process died (nbox or a monitor killed with SIGKILL),
 * and takes down a bridge left up without leases past its linger (its teardown was killed).
 * Owners in another PID namespace cannot be checked from here and are left alone. */
export async function sweepBridgeLeases(network = DEFAULT_BRIDGE): Promise<void> {
  // Most opens find no network state at all, or only live owners: nothing to lock then
  // (a dead owner's lease is looked at again under the lock).
  const recorded = Object.values(recordedLeases(network));
  if (recorded.length === 0) {
    const upSince = statSync(upMarker(network), { throwIfNoEntry: false })?.mtimeMs;
    if (upSince !== undefined && Date.now() - upSince > STALE_UP_MS) await withLeases(network, async (leases) => {
      if (Object.keys(leases).length === 0) await bridgeDown(network);
      return { leases, result: undefined };
    });
    return;
  }
  if (recorded.every((lease) => alive(lease.owner))) return;
  await withLeases(network, async (leases) => {
    const dead = Object.values(leases).filter((lease) => !alive(lease.owner));
    if (dead.length === 0) return { leases, result: undefined };
    const rest = Object.fromEntries(Object.values(leases).filter((lease) => alive(lease.owner)).map((lease) => [lease.id, lease]));
    await dropLeases(network, dead, rest);
    return { leases: rest, result: undefined };
  });
}

/** publishedOnBridge are the host ports the bridge's containers hold now (but container except's: its last run's). */
export function publishedOnBridge(network = DEFAULT_BRIDGE, except?: string): PortBinding[] {
  return Object.values(recordedLeases(network)).filter((lease) => lease.id !== except).flatMap((lease) => lease.ports);
}

// recordedLeases are the network's leases as last written, read without its lock (none without a file).
function recordedLeases(network: BridgeNetwork): Leases {
  try {
    return JSON.parse(readFileSync(leasesPath(network), 'utf8')) as Leases;
  } catch {
    return {};
  }
}

function heldElsewhere(port: PortBinding, others: Lease[]): boolean {
  return others.flatMap((lease) => lease.ports).some((other) => bindingsClash(other, port));
}

/** bridgeSweepCommand is what a monitor runs as it exits (bridge-sweep.ts): its lease is released when its
 * container ends, not at the next store open. */
export function bridgeSweepCommand(networks = [DEFAULT_BRIDGE]): string[] {
  // From the CLI bundle (dist/src/cli) and from the compiled tree (dist/src/runtime) alike.
  return [process.execPath, join(__dirname, '..', 'runtime', 'bridge-sweep.js'), ...networks.map((network) => JSON.stringify(network))];
}

/** bridgeLeases are the network's leases as they stand: its active endpoints. */
export function bridgeLeases(network = DEFAULT_BRIDGE): Lease[] {
  try {
    return Object.values(JSON.parse(readFileSync(leasesPath(network), 'utf8')) as Leases);
  } catch {
    return [];
  }
}

/** bridgeLease is container id's lease as it stands, for inspect and ps. */
export function bridgeLease(id: string, network = DEFAULT_BRIDGE): Lease | undefined {
  try {
    return (JSON.parse(readFileSync(leasesPath(network), 'utf8')) as Leases)[id];
  } catch {
    return undefined;
  }
}

async function dropLeases(network: BridgeNetwork, gone: Lease[], rest: Leases): Promise<void> {
  for (const lease of gone) dropNamespace(lease);
  if (network.isolation) writePeerHosts(network.name, peers(rest), peers(Object.fromEntries(gone.map((lease) => [lease.id, lease]))));
  const ports = gone.flatMap((lease) => lease.ports);
  if (ports.length > 0) {
    try {
      removePorts(network.table, ports);
    } catch {
      // One was not there (a table changed by hand, or rewritten without it): the table is written as it should be.
      await applyTable(network, rest);
    }
  }
  if (Object.keys(rest).length === 0) await lingerThenDown(network);
}

// dropNamespace lets the container's namespace go. The kernel deletes it, and the veth pair in it, in the
// background once nothing holds it; a delete here would wait out an RCU barrier (20 ms of every rm). Until
// then the host end is set down: the bridge forwards nothing to that port and forgets the address it learned
// there, which the next container, given the same address and MAC, must not lose its traffic to. A lease in
// another's namespace (a disconnect from a running container) deletes its link, as the namespace stays.
function dropNamespace(lease: Lease): void {
  try {
    if (lease.joined) addon().netLinkDelete(lease.hostIf);
    else addon().netLinkDown(lease.hostIf);
  } catch {
    // Gone with the namespace already.
  }
  if (lease.joined) return;
  addon().netnsRelease(lease.netns);
  // At once, under the leases lock: the next run of this container makes a file of the same name.
  rmSync(lease.netns, { force: true });
}

// vethAttach makes the container's veth pair. The pair of its last run (a restart right after its end) may
// still be going with its namespace and hold the host end's name: that one is deleted, then made again.
function vethAttach(spec: Parameters<Addon['netVethAttach']>[0]): void {
  try {
    addon().netVethAttach(spec);
  } catch (err) {
    if (!(err instanceof SysError && err.errnoName === 'EEXIST')) throw err;
    addon().netLinkDelete(spec.hostIf);
    addon().netVethAttach(spec);
  }
}

/** LINGER_SECONDS is how long the bridge and table outlive the last lease. */
const LINGER_SECONDS = 2;
/** STALE_UP_MS: a bridge this long past its last release (its up marker's time), with no lease, lost its teardown. */
const STALE_UP_MS = 30_000;

// LINGERER is the shell that takes a network down once it has gone unused: every LINGER_SECONDS it takes
// the network's lock (flock(1) and lock.ts's flock(2) exclude each other) and, if no lease is held and
// no container has ended since (the up marker's time is the last release's), deletes the bridge and the
// table, and ends. It holds $1.linger (flock -n) all its life: one per network, however many containers
// end. So containers run one after another keep one bridge up, and their ends start no process.
// Arguments: lock, leases, up marker, bridge, table, seconds.
const LINGERER = `while sleep "$6"; do
  flock "$1" /bin/sh -c 'test -e "$2" && exit
    test $(( $(date +%s) - $(stat -c %Y "$3" 2>/dev/null || echo 0) )) -lt "$6" && exit
    /usr/sbin/ip link del "$4" 2>/dev/null; /usr/sbin/nft delete table ip "$5" 2>/dev/null; rm -f "$3"' sh "$@"
  test -e "$3" || exit 0
done`;

// lingerThenDown marks the last release's time and, unless the network's lingerer runs, starts one in the
// background, which the host's init inherits once the shell that started it returns.
async function lingerThenDown(network: BridgeNetwork): Promise<void> {
  const lock = lockPath(network);
  const marker = upMarker(network);
  const now = new Date();
  try {
    utimesSync(marker, now, now);
  } catch {
    // No marker: the bridge is down already.
  }
  const free = await tryLockFile(`${lock}.linger`);
  if (!free) return;
  await free();
  // Not waited for: the shell only puts the lingerer in the background (a second one started meanwhile ends at
  // once). One that ends with the bridge up again (a container came and went as it ended, finding the lock
  // still held) runs again.
  const args = [lock, leasesPath(network), marker, network.bridge, network.table, String(LINGER_SECONDS)];
  const start = 'l=$1 s=$2; shift 2; (while flock -n "$l" /bin/sh -c "$s" sh "$@" && test -e "$3"; do :; done) </dev/null >/dev/null 2>&1 &';
  startProgram('/bin/sh', ['-c', start, 'sh', `${lock}.linger`, LINGERER, ...args]);
}

async function bridgeDown(network: BridgeNetwork): Promise<void> {
  addon().netLinkDelete(network.bridge);
  await runNft(deleteTableScript(network.table));
  await unlink(upMarker(network)).catch(() => {});
}

function bridgeUp(network: BridgeNetwork, subnet: Subnet): void {
  const routes = parseProcRoutes(readFileSync('/proc/net/route', 'utf8'));
  const clash = routes.find((route) => route.iface !== network.bridge && route.subnet.prefix > 0 && overlaps(route.subnet, subnet));
  if (clash) {
    throw new NboxError('ERR_NBOX_USAGE', `network ${network.name}: subnet ${network.subnet} overlaps the host's route to ${formatSubnet(clash.subnet)} (dev ${clash.iface}); choose another subnet`);
  }
  addon().netBridgeUp(network.bridge, network.gateway, subnet.prefix);
  // Egress is routed (NAT); a port published on 127.0.0.1 is routed from loopback to the bridge.
  writeSysctl('/proc/sys/net/ipv4/ip_forward', '1');
  writeSysctl(`/proc/sys/net/ipv4/conf/${network.bridge}/route_localnet`, '1');
}

function applyTable(network: BridgeNetwork, leases: Leases): Promise<void> {
  return commitNft(tableScript({ table: network.table, bridge: network.bridge, subnet: network.subnet, isolation: network.isolation }, Object.values(leases).flatMap((lease) => lease.ports)));
}

function freeAddress(network: BridgeNetwork, subnet: Subnet, leases: Lease[]): number {
  const taken = new Set([network.gateway, ...leases.map((lease) => lease.address)]);
  // The block's first address names the network and its last is broadcast.
  for (let address = subnet.base + 1; address < subnet.base + size(subnet) - 1; address++) {
    if (contains(subnet, address) && !taken.has(formatAddress(address))) return address;
  }
  throw new NboxError('ERR_NBOX_CONFLICT', `could not find an available IP in network ${network.name} (${network.subnet})`);
}

function requestedAddress(network: BridgeNetwork, subnet: Subnet, leases: Lease[], text: string): number {
  const address = parseAddress(text);
  if (address === undefined || !contains(subnet, address) || address === subnet.base || address === subnet.base + size(subnet) - 1) {
    throw new NboxError('ERR_NBOX_USAGE', `no configured subnet or ip-range contain the IP address ${text}`);
  }
  if (text === network.gateway || leases.some((lease) => lease.address === text)) throw new NboxError('ERR_NBOX_CONFLICT', `Address already in use`);
  return address;
}

// hostLinkName is the host's end of the veth pair: one per container on the default bridge, one per container
// and network on a user network (a container may be on several).
function hostLinkName(id: string, network: BridgeNetwork): string {
  return network.isolation ? `v${id.slice(0, 8)}${network.bridge.slice(-6)}` : `nb${id.slice(0, 12)}`;
}

function peers(leases: Leases): PeerEntry[] {
  return Object.values(leases).filter((lease) => lease.names && lease.hosts).map((lease) => ({ address: lease.address, names: lease.names!, hosts: lease.hosts! }));
}

// macOf is Docker's: 02:42 then the four bytes of the address.
function macOf(address: number): string {
  return ['02', '42', ...formatAddress(address).split('.').map((byte) => Number(byte).toString(16).padStart(2, '0'))].join(':');
}

function alive(owner: ProcessIdentity): boolean {
  if (owner.pidNamespace !== undefined && owner.pidNamespace !== pidNamespace()) return true;
  return processStartTime(owner.pid) === owner.startTime;
}

/** leasesPath is the network's lease file: JSON, each lease under its container's ID. */
export function leasesPath(network: BridgeNetwork): string {
  return join(STATE_DIR, `${network.bridge}.json`);
}

function lockPath(network: BridgeNetwork): string {
  return join(STATE_DIR, `${network.bridge}.lock`);
}

// TABLE_LAYOUT is the up marker's content: which rules tableScript writes (2: loopback from the bridge dropped;
// 3: published ports in maps).
const TABLE_LAYOUT = '3';

// upMarker exists while the bridge and the table are up.
function upMarker(network: BridgeNetwork): string {
  return join(STATE_DIR, `${network.bridge}.up`);
}

// withLeases runs change holding the network's lock, and writes the leases it returns (atomically: a reader
// without the lock, inspect, sees the old list or the new one).
async function withLeases<T>(network: BridgeNetwork, change: (leases: Leases) => Promise<{ leases: Leases; result: T }>): Promise<T> {
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  const release = await lockFile(lockPath(network));
  try {
    const path = leasesPath(network);
    // A small file on tmpfs, read and written at once: no thread-pool trips, which a busy pool makes
    // milliseconds of every start and removal.
    const leases = readLeasesFile(path);
    const { leases: next, result } = await change(leases);
    if (next !== leases) {
      if (Object.keys(next).length === 0) {
        rmSync(path, { force: true });
      } else {
        writeFileSync(`${path}.tmp`, JSON.stringify(next));
        renameSync(`${path}.tmp`, path);
      }
    }
    return result;
  } finally {
    await release();
  }
}

function readLeasesFile(path: string): Leases {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Leases;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return {};
    throw err;
  }
}

function writeSysctl(path: string, value: string): void {
  try {
    if (readFileSync(path, 'utf8').trim() !== value) writeFileSync(path, value);
  } catch (err) {
    throw new NboxError('ERR_NBOX_SYS', `cannot set ${path} to ${value}: ${(err as Error).message}`);
  }
}
