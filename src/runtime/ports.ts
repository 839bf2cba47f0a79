// Published ports (`-p`, `-P`): parsed as Docker parses them, held by a socket
// each before anything is made and for as long as the container runs, and
// written back as Docker prints them (`port`, ps's PORTS). A port published
// without a host address is Docker's two: on every IPv4 address (0.0.0.0,
// DNATed by nftables) and on every IPv6 one ([::], relayed by nbox-proxy).
import { closeSync } from 'node:fs';
import { isIPv6 } from 'node:net';

import { NboxError, SysError } from '../errors';
import { addon } from '../sys/addon';
import { parseAddress } from './ipv4';

/** PortBinding is one published port of a container. */
export interface PortBinding {
  protocol: 'tcp' | 'udp';
  /** An IPv4 or IPv6 address, 0.0.0.0 or :: for all of a family's; in a request, '' for both families'. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  /** One of the two bindings (0.0.0.0 and ::) that a request without a host address made. */
  unspecified?: boolean;
}

/** PublishRequest is a `-p` before its host port is chosen: hostPort 0 asks for a free one, and with
 * hostPortEnd, the first free one from hostPort to hostPortEnd (`-p 8000-8010:80`). */
export interface PublishRequest extends PortBinding {
  hostPortEnd?: number;
}

const ANY_IPV4 = '0.0.0.0';
const ANY_IPV6 = '::';

/** parsePublish reads `-p [HOSTIP:][HOSTPORT[-END]:]CONTAINERPORT[-END][/tcp|udp]` as Docker does
 * (go-connections' ParsePortSpec, with its messages): ranges of one length map port to port; a host range
 * for one container port is where a free host port is looked for. An IPv6 host address may be in brackets. */
export function parsePublish(spec: string): PublishRequest[] {
  const slash = spec.indexOf('/');
  const [rest, proto] = slash < 0 ? [spec, 'tcp'] : [spec.slice(0, slash), spec.slice(slash + 1).toLowerCase()];
  const parts = rest.split(':');
  // More than three parts: the address is all but the last two (`::1:8080:80`).
  const [ip, hostPortText, containerPortText] = parts.length >= 3 ? [parts.slice(0, -2).join(':'), ...parts.slice(-2)]
    : parts.length === 2 ? ['', ...parts] : ['', '', parts[0]];
  if (containerPortText === '') throw usage(`no port specified: ${spec}<empty>`);
  if (proto !== 'tcp' && proto !== 'udp') throw usage(`invalid proto: ${proto}`);
  const hostIp = /^\[.*\]$/.test(ip) ? ip.slice(1, -1) : ip;
  if (hostIp !== '' && (hostIp.includes(':') ? !isIPv6(hostIp) : parseAddress(hostIp) === undefined)) throw usage(`invalid IP address: ${ip}`);
  const container = portRange(containerPortText);
  if (container === undefined || container[0] === 0) throw usage(`invalid containerPort: ${containerPortText}`);
  const host = hostPortText === '' ? [0, 0] : portRange(hostPortText);
  if (host === undefined) throw usage(`invalid hostPort: ${hostPortText}`);
  const count = container[1] - container[0] + 1;
  if (hostPortText !== '' && host[1] - host[0] + 1 !== count && count !== 1) {
    throw usage(`invalid ranges specified for container and host Ports: ${containerPortText} and ${hostPortText}`);
  }
  return Array.from({ length: count }, (_, i) => ({
    protocol: proto, hostIp, hostPort: host[0] === 0 ? 0 : host[0] + i, containerPort: container[0] + i,
    ...(count === 1 && host[1] > host[0] ? { hostPortEnd: host[1] } : {}),
  }));
}

/** exposeKeys reads `--expose PORT[-END][/tcp|udp]` into ExposedPorts' keys (`80/tcp`), one per port. */
export function exposeKeys(spec: string): string[] {
  const [numbers, proto = 'tcp'] = spec.split('/');
  const range = portRange(numbers);
  if (range === undefined || (proto.toLowerCase() !== 'tcp' && proto.toLowerCase() !== 'udp')) throw usage(`invalid range format for --expose: ${spec}`);
  return Array.from({ length: range[1] - range[0] + 1 }, (_, i) => `${range[0] + i}/${proto.toLowerCase()}`);
}

/** exposedPorts turns an image's ExposedPorts (`80/tcp`) into `-P` requests: each on a free host port. */
export function exposedPorts(exposed: Record<string, unknown> | undefined): PublishRequest[] {
  return Object.keys(exposed ?? {}).flatMap((key) => {
    const [number, proto = 'tcp'] = key.split('/');
    const containerPort = port(number);
    if (containerPort === undefined || (proto !== 'tcp' && proto !== 'udp')) return [];
    return [{ protocol: proto, hostIp: '', hostPort: 0, containerPort }];
  });
}

/** isIpv6Binding: the binding is on an IPv6 address, which nbox-proxy answers. */
export function isIpv6Binding(binding: Pick<PortBinding, 'hostIp'>): boolean {
  return binding.hostIp.includes(':');
}

/** hostAddress is where a binding answers, as Docker writes it: `0.0.0.0:8080`, `[::]:8080`. */
export function hostAddress(binding: Pick<PortBinding, 'hostIp' | 'hostPort'>): string {
  return joinHostPort(binding.hostIp || ANY_IPV4, String(binding.hostPort));
}

// joinHostPort is Go's net.JoinHostPort: an IPv6 address in brackets.
function joinHostPort(ip: string, port: string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** bindingsClash: two bindings of one protocol and port that cannot both be had (an address and all of its
 * family's, or the same address; '' is all of both families'). */
export function bindingsClash(a: PortBinding, b: PortBinding): boolean {
  if (a.protocol !== b.protocol || a.hostPort !== b.hostPort) return false;
  if (a.hostIp === '' || b.hostIp === '') return true;
  if (isIpv6Binding(a) !== isIpv6Binding(b)) return false;
  const any = isIpv6Binding(a) ? ANY_IPV6 : ANY_IPV4;
  return a.hostIp === any || b.hostIp === any || a.hostIp === b.hostIp;
}

/** portRequests are the `-p` requests bindings came from: a pair made for a request without an address is one
 * again (HostConfig.PortBindings). */
export function portRequests(bindings: PortBinding[]): PortBinding[] {
  return bindings.flatMap(({ unspecified, ...binding }) => {
    if (!unspecified) return [binding];
    // The IPv4 one stands for the pair; the IPv6 one alone (IPv4's port taken meanwhile?) cannot be: it goes.
    return isIpv6Binding(binding) ? [] : [{ ...binding, hostIp: '' }];
  });
}

/** PortInUse says which binding cannot be had, in Docker's words. */
export function portAllocated(binding: PortBinding): NboxError {
  return usage(`Bind for ${hostAddress(binding)} failed: port is already allocated`);
}

/** HeldPorts are published ports with the sockets that hold their host ports, open until close(): Docker's
 * proxy and podman's conmon hold theirs so, and no host process can take the port meanwhile. */
export interface HeldPorts {
  bindings: PortBinding[];
  /** Close-on-exec, for the process that answers for the container (a monitor gets its own copies). */
  fds: number[];
  close(): void;
}

/** MAX_HELD_PORTS: a monitor takes them all in one message, and the kernel passes at most 253 fds in one. */
const MAX_HELD_PORTS = 253;

/** holdHostPorts binds a socket on each request's host port, or on a free one for a request without, and keeps
 * it: a port another container's binding in taken has, or a host socket holds, is refused in Docker's words. */
export function holdHostPorts(requests: PublishRequest[], taken: PortBinding[]): HeldPorts {
  if (requests.length > MAX_HELD_PORTS) throw usage(`too many published ports: ${requests.length} (at most ${MAX_HELD_PORTS})`);
  const bindings: PortBinding[] = [];
  const fds: number[] = [];
  const close = () => fds.splice(0).forEach((fd) => closeSync(fd));
  try {
    for (const request of requests) {
      for (const held of request.hostIp === '' ? holdBothFamilies(request, [...taken, ...bindings]) : [holdPort(request, [...taken, ...bindings])]) {
        fds.push(held.fd);
        bindings.push(held.binding);
      }
    }
  } catch (err) {
    close();
    throw err;
  }
  return { bindings, fds, close };
}

interface HeldPort {
  fd: number;
  binding: PortBinding;
}

const ATTEMPTS = 20;

// holdPort binds the request's port; one the kernel chose that a container's binding in taken has is given
// back and another chosen (the binding may be on another address, or its holder in another PID namespace).
// A request with a range takes the first port of it that is free.
function holdPort(request: PublishRequest, taken: PortBinding[]): HeldPort {
  const { hostPortEnd, ...binding } = request;
  if (hostPortEnd !== undefined) return holdInRange(binding, hostPortEnd, taken);
  const clash = (hostPort: number) => taken.some((other) => bindingsClash(other, { ...binding, hostPort }));
  if (binding.hostPort !== 0 && clash(binding.hostPort)) throw portAllocated(binding);
  for (let attempt = 0; attempt <= ATTEMPTS; attempt++) {
    const held = bindPort(binding);
    if (!clash(held.port)) return { fd: held.fd, binding: { ...binding, hostPort: held.port } };
    closeSync(held.fd);
  }
  throw usage('no free host port to publish on');
}

function holdInRange(binding: PortBinding, end: number, taken: PortBinding[]): HeldPort {
  for (let hostPort = binding.hostPort; hostPort <= end; hostPort++) {
    const candidate = { ...binding, hostPort };
    if (taken.some((other) => bindingsClash(other, candidate))) continue;
    try {
      return { fd: bindPort(candidate).fd, binding: candidate };
    } catch (err) {
      if (errnoOf(err) !== 'EADDRINUSE') throw err;
    }
  }
  throw usage(`Bind for ${hostAddress(binding)}-${end} failed: port is already allocated`);
}

// holdBothFamilies holds a request without a host address on 0.0.0.0 and on :: at one port, as Docker does: a
// port the kernel chose for IPv4 that IPv6 has taken is given back and another chosen. A host without IPv6
// gets the IPv4 one alone.
function holdBothFamilies(request: PublishRequest, taken: PortBinding[]): HeldPort[] {
  // Ports IPv6 could not have: the next attempt passes them over.
  const refused: PortBinding[] = [];
  for (let attempt = 0; attempt <= ATTEMPTS; attempt++) {
    const v4 = holdPort({ ...request, hostIp: ANY_IPV4, unspecified: true }, [...taken, ...refused]);
    const v6 = { ...v4.binding, hostIp: ANY_IPV6 };
    let failure: unknown = portAllocated(v6);
    let portTaken = true;
    if (!taken.some((other) => bindingsClash(other, v6))) {
      try {
        return [v4, { fd: bindPort(v6).fd, binding: v6 }];
      } catch (err) {
        if (errnoOf(err) === 'EAFNOSUPPORT') return [v4];
        failure = err;
        portTaken = errnoOf(err) === 'EADDRINUSE';
      }
    }
    closeSync(v4.fd);
    const chosen = request.hostPort === 0 || request.hostPortEnd !== undefined;
    if (!chosen || !portTaken) throw failure;
    refused.push({ ...v4.binding, hostIp: '' });
  }
  throw usage('no free host port to publish on');
}

// errnoOf is the errno name of bindPort's error.
function errnoOf(err: unknown): string | undefined {
  return err instanceof NboxError && err.cause instanceof SysError ? err.cause.errnoName : undefined;
}

function bindPort(request: PublishRequest): { fd: number; port: number } {
  try {
    return addon().bindPort(request.protocol, request.hostIp, request.hostPort);
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    const reason = err.errnoName === 'EADDRINUSE' ? 'address already in use' : err.errnoName === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : err.errnoName;
    const family = isIpv6Binding(request) ? 6 : 4;
    throw usage(`driver failed programming external connectivity: Error starting userland proxy: listen ${request.protocol}${family} ${hostAddress(request)}: bind: ${reason}`, err);
  }
}

/** portKey is Docker's `80/tcp`. */
export function portKey(binding: Pick<PortBinding, 'containerPort' | 'protocol'>): string {
  return `${binding.containerPort}/${binding.protocol}`;
}

/** formatPorts is ps's PORTS column as the docker CLI writes it (DisplayablePorts): sorted by container port,
 * then address (IPv4 first) and host port; a run of consecutive ports each published on its own number (or
 * only exposed) is one range, `0.0.0.0:8000-8001->8000-8001/tcp`; then the other mappings, `[::]:8080->80/tcp`. */
export function formatPorts(bindings: PortBinding[], exposed: string[] = []): string {
  const bare = exposed.filter((key) => !bindings.some((binding) => portKey(binding) === key)).flatMap((key) => {
    const [number, protocol] = key.split('/');
    return protocol === 'tcp' || protocol === 'udp' ? [{ protocol, hostIp: '', hostPort: 0, containerPort: Number(number) } as PortBinding] : [];
  });
  const sorted = [...bindings.map((binding) => ({ ...binding, hostIp: binding.hostIp || ANY_IPV4 })), ...bare].sort((a, b) =>
    a.containerPort - b.containerPort || compareAddresses(a.hostIp, b.hostIp) || a.hostPort - b.hostPort || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0));
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const mappings: string[] = [];
  const group = (key: string, { first, last }: { first: number; last: number }) => {
    const [ip, protocol] = key.includes('/') ? [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/') + 1)] : ['', key];
    const ports = first === last ? `${first}` : `${first}-${last}`;
    return `${ip ? `${joinHostPort(ip, ports)}->${ports}` : ports}/${protocol}`;
  };
  for (const binding of sorted) {
    if (binding.hostIp !== '' && binding.hostPort !== binding.containerPort) {
      mappings.push(`${hostAddress(binding)}->${portKey(binding)}`);
      continue;
    }
    const key = binding.hostIp ? `${binding.hostIp}/${binding.protocol}` : binding.protocol;
    const current = groups.get(key);
    if (current && binding.containerPort === current.last + 1) current.last = binding.containerPort;
    else {
      if (current) result.push(group(key, current));
      groups.set(key, { first: binding.containerPort, last: binding.containerPort });
    }
  }
  // Map keeps the order keys were first made in, as the CLI's groupMapKeys.
  for (const [key, current] of groups) result.push(group(key, current));
  return [...result, ...mappings].join(', ');
}

// compareAddresses orders host addresses as Go's netip.Addr.Less: none first, IPv4 before IPv6, then by value.
function compareAddresses(a: string, b: string): number {
  const rank = (ip: string) => (ip === '' ? 0 : ip.includes(':') ? 2 : 1);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  const bytesA = addressBytes(a);
  const bytesB = addressBytes(b);
  for (let i = 0; i < bytesA.length; i++) if (bytesA[i] !== bytesB[i]) return bytesA[i] - bytesB[i];
  return 0;
}

// addressBytes are an address's bytes, IPv6's with its :: filled in.
function addressBytes(ip: string): number[] {
  if (!ip.includes(':')) return ip === '' ? [] : ip.split('.').map(Number);
  const [head, tail = ''] = ip.split('::');
  const words = (text: string) => (text === '' ? [] : text.split(':').map((word) => parseInt(word, 16)));
  const given = [...words(head), ...words(tail)];
  const all = ip.includes('::') ? [...words(head), ...Array<number>(8 - given.length).fill(0), ...words(tail)] : given;
  // An IPv4 tail (::ffff:1.2.3.4) reads as 0: it only orders.
  return all.flatMap((word) => (Number.isNaN(word) ? [0, 0] : [word >> 8, word & 0xff]));
}

/** formatPortLines is `port CONTAINER [PORT]`'s output: `80/tcp -> 0.0.0.0:8080`. */
export function formatPortLines(bindings: PortBinding[]): string[] {
  return bindings.map((binding) => `${portKey(binding)} -> ${hostAddress(binding)}`);
}

function port(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) return undefined;
  return Number(text);
}

// portRange reads `N` or `N-M` (M not below N).
function portRange(text: string): [number, number] | undefined {
  const [startText, endText = startText, extra] = text.split('-');
  const start = port(startText);
  const end = port(endText);
  if (start === undefined || end === undefined || extra !== undefined || end < start) return undefined;
  return [start, end];
}

function usage(message: string, cause?: unknown): NboxError {
  return new NboxError('ERR_NBOX_USAGE', message, cause === undefined ? undefined : { cause });
}
