// The bridge network's firewall: one nftables table of nbox's own, as
// netavark keeps one, so nothing of it mixes with the host's rules and
// removing the table removes all of it. The table is written by `nft -f -`,
// which applies each script as one transaction; a container's published ports
// come and go as elements of its maps, over netlink (native/nft-ports.c).
import { NboxError, SysError } from '../errors';
import { addon, type NftPort } from '../sys/addon';
import { runProgram, runProgramToOutput, type ProgramResult } from '../sys/program';
import { isIpv6Binding } from './ports';

const NFT = '/usr/sbin/nft';

/** runNft applies script in one transaction. */
export async function runNft(script: string): Promise<void> {
  const result = await runProgram(NFT, ['-f', '-'], script).catch(notInstalled);
  if (result.exitCode !== 0) throw failed(result);
}

/** commitNft applies script in one transaction and resolves once the kernel committed it: nft echoes
 * what it made (--echo) as the commit's notifications reach it. Its exit comes later: closing its socket
 * after a transaction that removed anything waits out the kernel's deferred destroy (an RCU grace period,
 * 10-20 ms here), which nothing here needs to wait for. */
export async function commitNft(script: string): Promise<void> {
  const result = await runProgramToOutput(NFT, ['--echo', '-f', '-'], script).catch(notInstalled);
  if (!result.output && result.exitCode !== 0) throw failed(result);
}

function notInstalled(err: unknown): never {
  if (err instanceof SysError) throw new NboxError('ERR_NBOX_SYS', `nft: ${err.message} (install Debian's nftables package)`);
  throw err;
}

function failed(result: ProgramResult): NboxError {
  return new NboxError('ERR_NBOX_SYS', `nft: ${result.stderr.trim() || (result.exitCode === null ? `signal ${result.signal}` : `exit ${result.exitCode}`)}`);
}

/** NatTable names the table and what it serves. */
export interface NatTable {
  table: string;
  bridge: string;
  subnet: string;
  isolation?: Isolation;
}

/** Isolation is a user network's: no traffic between its bridge and the `others` (link names, `*` a wildcard), as
 * Docker's DOCKER-ISOLATION chains keep networks apart; internal, no traffic between its bridge and any other link. */
export interface Isolation {
  others: string[];
  internal: boolean;
}

/** PortRule is one published port: traffic to hostPort (on hostIp, or any address) goes to address:containerPort. */
export interface PortRule {
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  address: string;
  containerPort: number;
}

/** tableScript (re)creates the table whole: masquerade for the subnet's egress,
 * forwarding to and from the bridge, and DNAT for every published IPv4 port, both
 * for traffic arriving from outside (prerouting) and from the host itself
 * (output: 127.0.0.1 and the host's own addresses). The IPv6 ones are nbox-proxy's. */
export function tableScript(nat: NatTable, ports: PortRule[]): string {
  const published = nftPorts(ports);
  return [
    `add table ip ${nat.table}`,
    `delete table ip ${nat.table}`,
    `table ip ${nat.table} {`,
    // route_localnet lets the host DNAT 127.0.0.1 to a container; it also lets a container address the host's
    // loopback (frames to the gateway's MAC for 127.0.0.1: CVE-2020-8558's class). Dropped as they arrive,
    // before NAT: the host's own replies to 127.0.0.1 were masqueraded and come back to the gateway's address.
    '  chain raw {',
    '    type filter hook prerouting priority raw; policy accept;',
    `    iifname "${nat.bridge}" ip daddr 127.0.0.0/8 drop`,
    '  }',
    // Published ports are elements of two maps, which addPorts and removePorts change over netlink.
    `  map ${ANY_MAP} {`,
    '    type inet_proto . inet_service : ipv4_addr . inet_service',
    ...mapElements(published.filter((port) => port.hostIp === '').map((port) => `${port.protocol} . ${port.hostPort} : ${port.address} . ${port.containerPort}`)),
    '  }',
    `  map ${ADDRESS_MAP} {`,
    '    type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service',
    ...mapElements(published.filter((port) => port.hostIp !== '').map((port) => `${port.hostIp} . ${port.protocol} . ${port.hostPort} : ${port.address} . ${port.containerPort}`)),
    '  }',
    '  chain ports {',
    `    fib daddr type local dnat ip to meta l4proto . th dport map @${ANY_MAP}`,
    `    dnat ip to ip daddr . meta l4proto . th dport map @${ADDRESS_MAP}`,
    '  }',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    '    jump ports',
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    '    jump ports',
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    // Traffic from the host's loopback to a container (a port on 127.0.0.1) needs a source it can answer.
    `    oifname "${nat.bridge}" ip saddr 127.0.0.0/8 masquerade`,
    ...(nat.isolation?.internal ? [] : [`    ip saddr ${nat.subnet} ip daddr != ${nat.subnet} masquerade`]),
    // A container reaching another's port through a host address: the answer must come back the same way.
    `    oifname "${nat.bridge}" ct status dnat ip saddr ${nat.subnet} masquerade`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    ...isolationRules(nat.bridge, nat.isolation),
    `    oifname "${nat.bridge}" accept`,
    `    iifname "${nat.bridge}" accept`,
    '  }',
    '}',
    '',
  ].join('\n');
}

// isolationRules drop what crosses between the bridge and the links it is kept from, both ways: the drop
// holds whatever the other tables accept, as every base chain on the hook sees the packet. A published
// port is the exception, as in Docker: a connection DNATed to it passes, from any network but an internal one.
function isolationRules(bridge: string, isolation: Isolation | undefined): string[] {
  if (!isolation) return [];
  if (isolation.internal) return [`    iifname "${bridge}" oifname != "${bridge}" drop`, `    oifname "${bridge}" iifname != "${bridge}" drop`];
  return [
    '    ct status dnat accept',
    ...isolation.others.flatMap((other) => [
      `    iifname "${bridge}" oifname != "${bridge}" oifname "${other}" drop`,
      `    oifname "${bridge}" iifname != "${bridge}" iifname "${other}" drop`,
    ]),
  ];
}

// The maps' names, as native/nft-ports.h has them.
const ANY_MAP = 'dnat_any';
const ADDRESS_MAP = 'dnat_address';

function mapElements(elements: string[]): string[] {
  return elements.length === 0 ? [] : [`    elements = { ${elements.join(', ')} }`];
}

/** addPorts puts more published ports in a table tableScript made, in a fraction of a millisecond: no nft process. */
export function addPorts(table: string, ports: PortRule[]): void {
  addon().nftPorts(table, true, nftPorts(ports));
}

/** removePorts takes published ports out of a table tableScript made; it fails (SysError ENOENT) when one is not there. */
export function removePorts(table: string, ports: PortRule[]): void {
  addon().nftPorts(table, false, nftPorts(ports));
}

// nftPorts are the maps' entries of the IPv4 bindings (the IPv6 ones are nbox-proxy's); '' is any local address.
function nftPorts(ports: PortRule[]): NftPort[] {
  return ports.filter((port) => !isIpv6Binding(port)).map((port) => ({ ...port, hostIp: port.hostIp === '0.0.0.0' ? '' : port.hostIp }));
}

/** deleteTableScript removes the table, present or not. */
export function deleteTableScript(table: string): string {
  return `add table ip ${table}\ndelete table ip ${table}\n`;
}
