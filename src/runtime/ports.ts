// Published ports (`-p`, `-P`): parsed as Docker parses them, checked free
// before anything is made, and written back as Docker prints them (`port`, ps's PORTS).
import { NboxError } from '../errors';
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

/** claimHostPorts chooses a free host port for each request without one and checks the others are
 * free on the host (no listener) and among taken, the bindings of other containers. */
export async function claimHostPorts(requests: PublishRequest[], taken: PortBinding[]): Promise<PortBinding[]> {
  const claimed: PortBinding[] = [];
  for (const request of requests) {
    const clash = (hostPort: number) => [...taken, ...claimed].some((other) => other.protocol === request.protocol && other.hostPort === hostPort
      && (other.hostIp === '' || request.hostIp === '' || other.hostIp === request.hostIp));
    if (request.hostPort !== 0 && clash(request.hostPort)) throw portAllocated(request);
    let hostPort = request.hostPort;
    for (let attempt = 0; ; attempt++) {
      const bound = await tryBind(request.protocol, request.hostIp, hostPort);
      if (typeof bound === 'number' && !clash(bound)) {
        hostPort = bound;
        break;
      }
      if (request.hostPort !== 0) {
        const code = typeof bound === 'number' ? 'EADDRINUSE' : bound.code;
        throw usage(`driver failed programming external connectivity: Error starting userland proxy: listen ${request.protocol}4 ${request.hostIp || '0.0.0.0'}:${request.hostPort}: bind: ${code === 'EADDRINUSE' ? 'address already in use' : code === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : code}`);
      }
      if (attempt > 20) throw usage('no free host port to publish on');
    }
    claimed.push({ ...request, hostPort });
  }
  return claimed;
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

// tryBind binds (and closes) a socket on the port: its number (the kernel's choice for 0), or the error.
async function tryBind(protocol: 'tcp' | 'udp', hostIp: string, hostPort: number): Promise<number | NodeJS.ErrnoException> {
  const address = hostIp || '0.0.0.0';
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const { createSocket } = require('node:dgram') as typeof import('node:dgram');
      const socket = createSocket('udp4');
      socket.once('error', (err) => (socket.close(), resolve(err)));
      socket.bind(hostPort, address, () => {
        const bound = socket.address().port;
        socket.close(() => resolve(bound));
      });
      return;
    }
    const { createServer } = require('node:net') as typeof import('node:net');
    const server = createServer();
    server.once('error', (err) => resolve(err));
    server.listen({ port: hostPort, host: address, exclusive: true }, () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}
