// Published ports (`-p`, `-P`): parsed as Docker parses them, held by a socket
// each before anything is made and for as long as the container runs, and
// written back as Docker prints them (`port`, ps's PORTS).
import { closeSync } from 'node:fs';

import { NboxError, SysError } from '../errors';
import { addon } from '../sys/addon';
import { parseAddress } from './ipv4';

/** PortBinding is one published port of a container. */
export interface PortBinding {
  protocol: 'tcp' | 'udp';
  /** '' binds every host address (Docker's 0.0.0.0). */
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

/** PublishRequest is a `-p` before its host port is chosen: hostPort 0 asks for a free one. */
export type PublishRequest = PortBinding;

/** parsePublish reads `-p [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]` with Docker's messages. */
export function parsePublish(spec: string): PublishRequest {
  const slash = spec.lastIndexOf('/');
  const [rest, proto] = slash < 0 ? [spec, 'tcp'] : [spec.slice(0, slash), spec.slice(slash + 1).toLowerCase()];
  if (proto !== 'tcp' && proto !== 'udp') throw usage(`invalid proto: ${proto}`);
  const parts = rest.split(':');
  if (parts.length > 3) throw usage(`invalid port format: ${spec}`);
  const [hostIp, hostPortText, containerPortText] = parts.length === 3 ? parts : parts.length === 2 ? ['', ...parts] : ['', '', parts[0]];
  if (hostIp !== '' && parseAddress(hostIp) === undefined) throw usage(`invalid IP address: ${hostIp}`);
  const containerPort = port(containerPortText);
  if (containerPort === undefined || containerPort === 0) throw usage(`invalid containerPort: ${containerPortText}`);
  const hostPort = hostPortText === '' ? 0 : port(hostPortText);
  if (hostPort === undefined) throw usage(`invalid hostPort: ${hostPortText}`);
  return { protocol: proto, hostIp: hostIp === '0.0.0.0' ? '' : hostIp, hostPort, containerPort };
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

/** PortInUse says which binding cannot be had, in Docker's words. */
export function portAllocated(binding: PortBinding): NboxError {
  return usage(`Bind for ${binding.hostIp || '0.0.0.0'}:${binding.hostPort} failed: port is already allocated`);
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
      const held = holdPort(request, [...taken, ...bindings]);
      fds.push(held.fd);
      bindings.push({ ...request, hostPort: held.port });
    }
  } catch (err) {
    close();
    throw err;
  }
  return { bindings, fds, close };
}

// holdPort binds the request's port; one the kernel chose that a container's binding in taken has is given
// back and another chosen (the binding may be on another address, or its holder in another PID namespace).
function holdPort(request: PublishRequest, taken: PortBinding[]): { fd: number; port: number } {
  const clash = (hostPort: number) => taken.some((other) => other.protocol === request.protocol && other.hostPort === hostPort
    && (other.hostIp === '' || request.hostIp === '' || other.hostIp === request.hostIp));
  if (request.hostPort !== 0 && clash(request.hostPort)) throw portAllocated(request);
  for (let attempt = 0; attempt <= 20; attempt++) {
    const held = bindPort(request);
    if (!clash(held.port)) return held;
    closeSync(held.fd);
  }
  throw usage('no free host port to publish on');
}

function bindPort(request: PublishRequest): { fd: number; port: number } {
  try {
    return addon().bindPort(request.protocol, request.hostIp, request.hostPort);
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    const reason = err.errnoName === 'EADDRINUSE' ? 'address already in use' : err.errnoName === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : err.errnoName;
    throw usage(`driver failed programming external connectivity: Error starting userland proxy: listen ${request.protocol}4 ${request.hostIp || '0.0.0.0'}:${request.hostPort}: bind: ${reason}`);
  }
}

/** portKey is Docker's `80/tcp`. */
export function portKey(binding: Pick<PortBinding, 'containerPort' | 'protocol'>): string {
  return `${binding.containerPort}/${binding.protocol}`;
}

/** formatPorts is ps's PORTS column: `0.0.0.0:8080->80/tcp, 443/tcp`. */
export function formatPorts(bindings: PortBinding[], exposed: string[] = []): string {
  const published = bindings.map((binding) => `${binding.hostIp || '0.0.0.0'}:${binding.hostPort}->${portKey(binding)}`);
  const bare = exposed.filter((key) => !bindings.some((binding) => portKey(binding) === key));
  return [...published, ...bare].join(', ');
}

/** formatPortLines is `port CONTAINER [PORT]`'s output: `80/tcp -> 0.0.0.0:8080`. */
export function formatPortLines(bindings: PortBinding[]): string[] {
  return bindings.map((binding) => `${portKey(binding)} -> ${binding.hostIp || '0.0.0.0'}:${binding.hostPort}`);
}

function port(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) return undefined;
  return Number(text);
}

function usage(message: string): NboxError {
  return new NboxError('ERR_NBOX_USAGE', message);
}
