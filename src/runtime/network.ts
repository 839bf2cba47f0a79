// The networks a container can join, checked here so that a program using
// the library gets the CLI's refusal, not a container on an unknown network.
import { isIP } from 'node:net';

import { NboxError } from '../errors';
import type { ExtraHost } from './etc-files';

/** NetworkMode is how a container reaches the network: `bridge` is Docker's default network;
 * `container:ID` shares another container's network namespace; any other name is a user network's. */
export type NetworkMode = 'none' | 'host' | 'bridge' | `container:${string}` | UserNetworkName;

/** UserNetworkName is the name of a network made by `network create`. */
export type UserNetworkName = string & { readonly userNetwork?: never };

/** NetworkEndpoint is a container's place on one user network, as it asked for it. */
export interface NetworkEndpoint {
  /** The network's ID: one removed and made again under its name is another network. */
  id: string;
  /** --network-alias: more names it answers to there. */
  aliases?: string[];
  /** --ip: its address there. */
  ipAddress?: string;
}

/** isUserNetwork says whether a mode names a user network. */
export function isUserNetwork(mode: NetworkMode): boolean {
  return mode !== 'none' && mode !== 'host' && mode !== 'bridge' && !mode.startsWith('container:');
}

/** runNetwork checks `run --network`: a name no network could have is refused before anything is made.
 * `container:NAME` and a user network's name are returned as given; the caller resolves them. */
export function runNetwork(name: string | undefined): NetworkMode {
  const mode = name ?? 'bridge';
  if (mode === 'default') return 'bridge';
  if (mode.startsWith('container:')) {
    if (mode === 'container:') throw new NboxError('ERR_NBOX_USAGE', 'invalid container format container:<name|id>');
    return mode as NetworkMode;
  }
  if (mode !== 'none' && mode !== 'host' && mode !== 'bridge' && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(mode)) {
    throw new NboxError('ERR_NBOX_USAGE', `network ${mode} not found`);
  }
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
