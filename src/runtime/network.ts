// The networks a container can join, checked here so that a program using
// the library gets the CLI's refusal, not a container on an unknown network.
import { isIP } from 'node:net';

import { NboxError } from '../errors';
import type { ExtraHost } from './etc-files';

/** NetworkMode is how a container reaches the network: `bridge` is Docker's default network;
 * `container:ID` shares another container's network namespace. */
export type NetworkMode = 'none' | 'host' | 'bridge' | `container:${string}`;

/** runNetwork checks `run --network`: an unknown name is refused before anything is made.
 * `container:NAME` is returned as given; the caller resolves NAME. */
export function runNetwork(name: string | undefined): NetworkMode {
  const mode = name ?? 'bridge';
  if (mode === 'default') return 'bridge';
  if (mode.startsWith('container:')) {
    if (mode === 'container:') throw new NboxError('ERR_NBOX_USAGE', 'invalid container format container:<name|id>');
    return mode as NetworkMode;
  }
  if (mode !== 'none' && mode !== 'host' && mode !== 'bridge') throw new NboxError('ERR_NBOX_USAGE', `network ${mode} not found`);
  return mode;
}

/** sharedNetworkOf is the container a `container:ID` mode names, else undefined. */
export function sharedNetworkOf(mode: NetworkMode): string | undefined {
  return mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

/** buildNetwork checks `build --network` (RUN's network): BuildKit's `default` is the host's. */
export function buildNetwork(name: string | undefined): 'none' | 'host' {
  const mode = name ?? 'default';
  if (mode === 'default' || mode === 'host') return 'host';
  if (mode === 'none') return 'none';
  throw new NboxError('ERR_NBOX_USAGE', `network mode "${mode}" not supported by buildkit (use default, host or none)`);
}

/** parseAddHost reads `--add-host NAME:IP` (`NAME=IP` too); host-gateway is the bridge's gateway, as in Docker. */
export function parseAddHost(value: string, gateway: string): ExtraHost {
  const at = value.search(/[:=]/);
  if (at <= 0) throw new NboxError('ERR_NBOX_USAGE', `invalid argument "${value}" for "--add-host" flag: bad format for add-host: "${value}"`);
  const name = value.slice(0, at);
  const address = value.slice(at + 1).replace(/^\[(.*)\]$/, '$1');
  if (address === 'host-gateway') return { name, address: gateway };
  if (!isIP(address)) throw new NboxError('ERR_NBOX_USAGE', `invalid argument "${value}" for "--add-host" flag: invalid IP address in add-host: "${address}"`);
  return { name, address };
}

/** checkDns checks `--dns` values: addresses only, as Docker asks. */
export function checkDns(servers: string[]): string[] {
  const bad = servers.find((server) => !isIP(server));
  if (bad !== undefined) throw new NboxError('ERR_NBOX_USAGE', `invalid argument "${bad}" for "--dns" flag: ${bad} is not an ip address`);
  return servers;
}
