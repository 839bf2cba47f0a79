// The per-container /etc/hosts, /etc/hostname and /etc/resolv.conf, as Docker
// writes them: the container gets its own copies, bind-mounted over the image's.
import { readFileSync, writeFileSync } from 'node:fs';

import type { BindMount } from '../sys/addon';
import { isUserNetwork, type NetworkMode } from './network';


/** hostsFile is the container's /etc/hosts: loopback names plus its own hostname, at its
 * address on a bridge network once it has one (else 127.0.1.1). */
export async function hostsFile(mode: NetworkMode, hostname: string, address = '127.0.1.1', extraHosts: ExtraHost[] = []): Promise<string> {
  const extra = extraHosts.map((entry) => `${entry.address}\t${entry.name}\n`).join('');
  if (mode === 'host') return readHost('/etc/hosts', '127.0.0.1\tlocalhost\n') + extra;
  return [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    ...extraHosts.map((entry) => `${entry.address}\t${entry.name}`),
    `${address}\t${hostname}`,
    '',
  ].join('\n');
}

/** resolvConf is the container's /etc/resolv.conf, from the host's resolver config (containerResolvConf). */
export async function resolvConf(mode: NetworkMode, dns: DnsOptions = {}): Promise<string> {
  const [host, upstream] = [readHost('/etc/resolv.conf', ''), readHost('/run/systemd/resolve/resolv.conf', '')];
  return containerResolvConf(mode, dns, { host, upstream });
}

/** HostResolvConf is the host's /etc/resolv.conf and systemd-resolved's list of its upstream servers ('' when absent). */
export interface HostResolvConf {
  host: string;
  upstream: string;
}

/** containerResolvConf is the host's resolver config as a container sees it. Loopback nameservers are
 * dropped when the container has its own network (the bridge or a user network), since they would point
 * at itself; left without any, it gets systemd-resolved's upstream servers, else Docker's defaults (Google's
 * public DNS), as Docker does. A user network gets the bridge's servers, not Docker's embedded 127.0.0.11:
 * nbox names a network's containers in /etc/hosts. --dns and --dns-search then replace its servers and domains. */
export function containerResolvConf(mode: NetworkMode, dns: DnsOptions, resolvers: HostResolvConf): string {
  const base = baseResolvConf(mode, resolvers);
  return dns.servers?.length || dns.search?.length || dns.options?.length ? ownResolvConf(base, dns) : base;
}

function baseResolvConf(mode: NetworkMode, { host, upstream }: HostResolvConf): string {
  if (mode === 'host') return host;
  const own = withoutLoopback(host);
  if ((mode !== 'bridge' && !isUserNetwork(mode)) || hasNameserver(own)) return own;
  const upstreamServers = withoutLoopback(upstream).split('\n').filter((line) => NAMESERVER.test(line));
  const servers = upstreamServers.length ? upstreamServers : DEFAULT_NAMESERVERS;
  return `${[...own.split('\n').filter(Boolean), ...servers].join('\n')}\n`;
}

const NAMESERVER = /^\s*nameserver\s/;

function hasNameserver(text: string): boolean {
  return text.split('\n').some((line) => NAMESERVER.test(line));
}

/** ExtraHost is one --add-host entry. */
export interface ExtraHost {
  name: string;
  address: string;
}

/** DnsOptions are --dns, --dns-search and --dns-option. */
export interface DnsOptions {
  servers?: string[];
  search?: string[];
  options?: string[];
}

// ownResolvConf is the container's file with --dns in place of its nameservers and --dns-search in place of
// its search domains (`.` alone clears them), and --dns-option in place of its options, as Docker writes it.
function ownResolvConf(base: string, dns: DnsOptions): string {
  const lines = base.split('\n');
  const nameservers = dns.servers?.length ? dns.servers.map((server) => `nameserver ${server}`) : lines.filter((line) => NAMESERVER.test(line));
  const hostSearch = lines.filter((line) => /^\s*(search|domain)\s/.test(line));
  const search = dns.search?.length ? (dns.search.join('') === '.' ? [] : [`search ${dns.search.join(' ')}`]) : hostSearch;
  const options = dns.options?.length ? [`options ${dns.options.join(' ')}`] : lines.filter((line) => /^\s*options\s/.test(line));
  return `${[...nameservers, ...search, ...options].join('\n')}\n`;
}

/** DEFAULT_NAMESERVERS are Docker's when the host offers none a container can reach. */
const DEFAULT_NAMESERVERS = ['nameserver 8.8.8.8', 'nameserver 8.8.4.4'];

function withoutLoopback(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s*nameserver\s+(127\.|::1\s*$)/.test(line))
    .join('\n');
}

/** EtcFilePaths are the host files of one container bound over its /etc ones. */
export interface EtcFilePaths {
  hosts: string;
  hostname: string;
  resolvConf: string;
}

/** EtcFiles are the contents of a container's /etc files. */
export type EtcFiles = EtcFilePaths;

/** etcFiles is what a container's /etc/hosts, /etc/hostname and /etc/resolv.conf hold. */
export async function etcFiles(mode: NetworkMode, hostname: string, extraHosts: ExtraHost[] = [], dns: DnsOptions = {}): Promise<EtcFiles> {
  const [hosts, resolv] = await Promise.all([hostsFile(mode, hostname, undefined, extraHosts), resolvConf(mode, dns)]);
  return { hosts, hostname: `${hostname}\n`, resolvConf: resolv };
}

/** writeEtcFiles writes a container's /etc files at paths. */
export function writeEtcFiles(paths: EtcFilePaths, files: EtcFiles): void {
  writeFileSync(paths.hosts, files.hosts);
  writeFileSync(paths.hostname, files.hostname);
  writeFileSync(paths.resolvConf, files.resolvConf);
}

/** etcBinds are the binds of a container's /etc files, before any other mount. */
export function etcBinds(paths: EtcFilePaths): BindMount[] {
  return [
    { source: paths.hosts, target: '/etc/hosts', readonly: false, isFile: true },
    { source: paths.hostname, target: '/etc/hostname', readonly: false, isFile: true },
    { source: paths.resolvConf, target: '/etc/resolv.conf', readonly: false, isFile: true },
  ];
}

// Small host files: read at once, not through the thread pool.
function readHost(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}
