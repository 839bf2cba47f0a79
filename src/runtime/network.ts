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
  if (at <= 0) throw badAddHost(value);
  const name = value.slice(0, at);
  // A name is one field of an /etc/hosts line: a blank or a newline in it would write other entries.
  if (/[\s\x00-\x1f\x7f]/.test(name)) throw badAddHost(value);
  const address = value.slice(at + 1).replace(/^\[(.*)\]$/, '$1');
  if (address === 'host-gateway') return { name, address: gateway };
  if (!isIP(address)) throw new NboxError('ERR_NBOX_USAGE', `invalid argument ${JSON.stringify(value)} for "--add-host" flag: invalid IP address in add-host: ${JSON.stringify(address)}`);
  return { name, address };
}

// badAddHost is Docker's refusal, the value quoted as Go's %q quotes it: one line, whatever it holds.
function badAddHost(value: string): NboxError {
  return new NboxError('ERR_NBOX_USAGE', `invalid argument ${JSON.stringify(value)} for "--add-host" flag: bad format for add-host: ${JSON.stringify(value)}`);
}

// Docker's opts.ValidateDNSSearch: a domain of letters, digits and inner dashes (trailing blanks allowed), or `.`.
const DOMAIN = /^(:?(?:[a-zA-Z0-9]|(?:[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))(:?\.(?:[a-zA-Z0-9]|(?:[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])))*)\.?\s*$/;

/** checkDnsSearch checks `--dns-search` values as Docker does: each a domain, or `.`. */
export function checkDnsSearch(domains: string[]): string[] {
  const bad = domains.find((domain) => domain !== '.' && (domain.length > 255 || !DOMAIN.test(domain)));
  // Docker prints the second %s raw; quoted here, so that the message stays one line.
  if (bad !== undefined) throw new NboxError('ERR_NBOX_USAGE', `invalid argument ${JSON.stringify(bad)} for "--dns-search" flag: ${JSON.stringify(bad)} is not a valid domain`);
  return domains;
}

/** checkLineFields checks values that nbox writes as fields of a line of /etc/hosts or /etc/resolv.conf (a hostname,
 * an alias, a resolver option): a newline in one would write lines of its own, into other containers' files too. */
export function checkLineFields(flag: string, values: string[], blanks: 'allowed' | 'refused' = 'refused'): string[] {
  const pattern = blanks === 'allowed' ? /[\x00-\x1f\x7f]/ : /[\s\x00-\x1f\x7f]/;
  const bad = values.find((value) => value === '' || pattern.test(value));
  if (bad !== undefined) {
    throw new NboxError('ERR_NBOX_USAGE', `invalid argument ${JSON.stringify(bad)} for "${flag}" flag: ${bad === '' ? 'an empty value' : `no ${blanks === 'allowed' ? '' : 'blank or '}control character may appear in it`}`);
  }
  return values;
}

/** checkDns checks `--dns` values: addresses only, as Docker asks. */
export function checkDns(servers: string[]): string[] {
  const bad = servers.find((server) => !isIP(server));
  if (bad !== undefined) throw new NboxError('ERR_NBOX_USAGE', `invalid argument "${bad}" for "--dns" flag: ${bad} is not an ip address`);
  return servers;
}
