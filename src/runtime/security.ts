// Docker's security options of a container (--cap-add/--cap-drop, --privileged,
// --read-only, --security-opt, --device, --device-cgroup-rule, --sysctl,
// --group-add): checked with Docker's messages before anything is created,
// recorded as the container's HostConfig says them, and turned into what the
// child applies at every start and exec.
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';

import { NboxError } from '../errors';
import type { ContainerSecurity, DeviceNode, ProcessSecurity } from '../sys/addon';
import { parseProfile, reduceProfile, seccompProgram } from './seccomp';
import type { NetworkMode } from './network';

/** SecurityOptions are the flags as `docker run` takes them. */
export interface SecurityOptions {
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  /** --read-only: the root filesystem is read-only; /tmp and /run are writable only through --tmpfs. */
  readOnly?: boolean;
  /** no-new-privileges[:true|false], seccomp=unconfined|builtin|FILE (a path, read here), apparmor=…, label=…. */
  securityOpt?: string[];
  /** HOST[:CONTAINER][:rwm]. */
  devices?: string[];
  /** `c|b|a MAJOR|*:MINOR|* rwm`. */
  deviceCgroupRules?: string[];
  /** NAME=value. */
  sysctls?: string[];
  /** Group names (resolved in the container's /etc/group) or numbers. */
  groupAdd?: string[];
}

/** DeviceMapping is one --device, with Docker's field names. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** SecurityConfig is what a container records of its security options (Docker's HostConfig fields). */
export interface SecurityConfig {
  capAdd: string[] | null;
  capDrop: string[] | null;
  privileged: boolean;
  readonlyRootfs: boolean;
  securityOpt: string[] | null;
  devices: DeviceMapping[];
  deviceCgroupRules: string[];
  sysctls: Record<string, string>;
  groupAdd: string[];
}

/** Capability names by number (linux/capability.h), without the CAP_ prefix. */
const CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
].map((name) => `CAP_${name}`);

/** DEFAULT_CAPABILITIES are Docker's 14 (moby oci/caps/defaults.go), in its order. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** hostCapabilities are what --privileged and --cap-add ALL give: the capabilities this kernel
 * knows that nbox itself may hand on (its bounding set: a sandboxed nbox may lack some, and a
 * container asking for more than that would not start, so it gets what there is, as podman's does). */
export function hostCapabilities(): string[] {
  let bounding = 2 ** CAPABILITIES.length - 1;
  try {
    const status = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (status) bounding = Number.parseInt(status[1], 16);
  } catch {
    // No procfs: every capability nbox knows.
  }
  return CAPABILITIES.filter((_, bit) => Math.floor(bounding / 2 ** bit) % 2 === 1);
}

/** capabilityMask is a capability set as the child's bit mask. */
export function capabilityMask(caps: string[]): number {
  let mask = 0;
  for (const cap of caps) mask += 2 ** CAPABILITIES.indexOf(cap);
  return mask;
}

/** DEFAULT_CAPS is the mask of Docker's default set: a container without security options, a build's RUN. */
export const DEFAULT_CAPS = capabilityMask(DEFAULT_CAPABILITIES);

// The docker CLI's EffectiveCapAddCapDrop: upper case, CAP_ added, ALL alone
// wins, sorted, and what is added is not dropped.
function normalizeCapList(list: string[]): string[] {
  const names = new Set<string>();
  for (const raw of list) {
    const upper = raw.toUpperCase();
    if (upper === 'ALL') return ['ALL'];
    names.add(upper.startsWith('CAP_') ? upper : `CAP_${upper}`);
  }
  return [...names].sort();
}

// The daemon's NormalizeLegacyCapabilities: every name must be known.
function checkCapNames(list: string[], field: 'CapAdd' | 'CapDrop'): void {
  for (const name of list) {
    if (name !== 'ALL' && !CAPABILITIES.includes(name)) throw usage(`invalid ${field}: unknown capability: "${name}"`);
  }
}

/** effectiveCapabilities is moby's TweakCapabilities: privileged gets all; ALL added
 * gives all but the dropped; ALL dropped gives only the added; else the defaults
 * less the dropped, plus the added. */
export function effectiveCapabilities(security: Pick<SecurityConfig, 'capAdd' | 'capDrop' | 'privileged'>): string[] {
  const all = hostCapabilities();
  const add = security.capAdd ?? [];
  const drop = security.capDrop ?? [];
  if (security.privileged) return all;
  if (add.includes('ALL')) return all.filter((cap) => !drop.includes(cap));
  if (drop.includes('ALL')) return add;
  return [...new Set([...DEFAULT_CAPABILITIES.filter((cap) => !drop.includes(cap)), ...add])];
}

/** SECCOMP_BUILTIN and SECCOMP_UNCONFINED are --security-opt seccomp's two special names. */
const SECCOMP_SPECIAL = ['builtin', 'unconfined'];

/** ParsedSecurityOpt is what --security-opt values set. */
interface ParsedSecurityOpt {
  /** As HostConfig.SecurityOpt records them: a seccomp file is replaced by its compact JSON, as the CLI sends it. */
  recorded: string[];
  noNewPrivileges: boolean;
  /** 'builtin', 'unconfined' or a profile's JSON text; undefined: the default. */
  seccomp?: string;
}

// The docker CLI's parseSecurityOpts, then the daemon's parseSecurityOpt.
function parseSecurityOpts(options: string[]): ParsedSecurityOpt {
  const parsed: ParsedSecurityOpt = { recorded: [], noNewPrivileges: false };
  for (const opt of options) {
    let [key, value, ok] = cut(opt, '=');
    if (!ok && key !== 'no-new-privileges') [key, value, ok] = cut(opt, ':');
    if ((!ok || value === '') && key !== 'no-new-privileges') throw usage(`Invalid --security-opt: "${opt}"`);
    let recorded = opt;
    switch (key) {
      case 'no-new-privileges': {
        if (!ok) {
          parsed.noNewPrivileges = true;
          break;
        }
        const flag = parseGoBool(value);
        if (flag === undefined) throw usage(`invalid --security-opt 2: "${opt}"`);
        parsed.noNewPrivileges = flag;
        break;
      }
      case 'seccomp':
        if (SECCOMP_SPECIAL.includes(value)) {
          parsed.seccomp = value;
          break;
        }
        // A profile's JSON (what the CLI sends, and what a record holds), else a file to read it from.
        parsed.seccomp = value.startsWith('{') ? value : readProfile(value);
        recorded = `seccomp=${parsed.seccomp}`;
        break;
      // No AppArmor or SELinux here: their options are recorded and change nothing, as on a host without them.
      case 'apparmor':
      case 'label':
        break;
      default:
        throw usage(`invalid --security-opt 2: "${opt}"`);
    }
    parsed.recorded.push(recorded);
  }
  return parsed;
}

function readProfile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw usage(`opening seccomp profile (${path}) failed: open ${path}: ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  try {
    return JSON.stringify(JSON.parse(text));
  } catch (err) {
    throw usage(`compacting json for seccomp profile (${path}) failed: ${(err as Error).message}`);
  }
}

function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

function cut(text: string, sep: string): [string, string, boolean] {
  const at = text.indexOf(sep);
  return at < 0 ? [text, '', false] : [text.slice(0, at), text.slice(at + sep.length), true];
}

function usage(message: string): NboxError {
  return new NboxError('ERR_NBOX_USAGE', message);
}

// The CLI's validDeviceMode: r, w, m, each at most once.
function validDeviceMode(mode: string): boolean {
  return mode.length > 0 && mode.length <= 3 && [...mode].every((c, i) => 'rwm'.includes(c) && mode.indexOf(c) === i);
}

/** parseDevice reads --device HOST[:CONTAINER][:PERMISSIONS] as the docker CLI does. */
export function parseDevice(spec: string): DeviceMapping {
  const parts = spec.split(':');
  if (parts.length > 3) throw usage(`invalid argument "${spec}" for "--device" flag: invalid device specification: ${spec}`);
  let permissions = 'rwm';
  let target = '';
  if (parts.length === 3) permissions = parts[2];
  if (parts.length >= 2) {
    if (parts.length === 2 && validDeviceMode(parts[1])) permissions = parts[1];
    else target = parts[1];
  }
  const source = parts[0];
  if (!target) target = source;
  if (!validDeviceMode(permissions)) throw usage(`invalid argument "${spec}" for "--device" flag: bad mode specified: ${permissions}`);
  for (const path of [source, target]) {
    if (!path.startsWith('/')) throw usage(`invalid argument "${spec}" for "--device" flag: bad format for path: ${path}`);
  }
  return { PathOnHost: source, PathInContainer: target, CgroupPermissions: permissions };
}

const DEVICE_CGROUP_RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/** ALLOWED_SYSCTLS are the namespaced kernel.* sysctls Docker accepts (moby opts.ValidateSysctl). */
const ALLOWED_SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

function parseSysctl(text: string, network: NetworkMode): [string, string] {
  const [key, value, ok] = cut(text, '=');
  const allowed = ok && key !== '' && (ALLOWED_SYSCTLS.includes(key) || key.startsWith('net.') || key.startsWith('fs.mqueue.'));
  if (!allowed) throw usage(`invalid argument "${text}" for "--sysctl" flag: sysctl '${text}' is not allowed`);
  // runc's check: the host's network namespace is not the container's to tune.
  if (key.startsWith('net.') && network === 'host') throw usage(`sysctl "${key}" not allowed in host network namespace`);
  return [key, value];
}

/** securityConfig checks the options (Docker's messages, before anything is created) and records them. */
export function securityConfig(opts: SecurityOptions, network: NetworkMode): SecurityConfig {
  const capAdd = normalizeCapList(opts.capAdd ?? []);
  const capDrop = normalizeCapList(opts.capDrop ?? []).filter((cap) => !capAdd.includes(cap));
  checkCapNames(capAdd, 'CapAdd');
  checkCapNames(capDrop, 'CapDrop');
  const devices = (opts.devices ?? []).map(parseDevice);
  for (const rule of opts.deviceCgroupRules ?? []) {
    if (!DEVICE_CGROUP_RULE.test(rule)) throw usage(`invalid argument "${rule}" for "--device-cgroup-rule" flag: invalid device cgroup format '${rule}'`);
  }
  const sysctls = Object.fromEntries((opts.sysctls ?? []).map((text) => parseSysctl(text, network)));
  const securityOpt = parseSecurityOpts(opts.securityOpt ?? []).recorded;
  const config: SecurityConfig = {
    capAdd: capAdd.length ? capAdd : null,
    capDrop: capDrop.length ? capDrop : null,
    privileged: opts.privileged ?? false,
    readonlyRootfs: opts.readOnly ?? false,
    securityOpt: securityOpt.length ? securityOpt : null,
    devices,
    deviceCgroupRules: opts.deviceCgroupRules ?? [],
    sysctls,
    groupAdd: opts.groupAdd ?? [],
  };
  // The daemon gathers the devices and reads the profile at create: what is wrong is refused before the container exists.
  deviceNodes(config);
  // A user's profile is checked here; Docker's own needs no check on every run.
  const profile = seccompProfile(config);
  if (profile !== 'unconfined' && profile !== 'builtin') reduceProfile(parseProfile(profile), effectiveCapabilities(config));
  return config;
}

/** seccompProfile is the profile a container runs with: 'builtin' (Docker's default), 'unconfined', or a profile's JSON. */
export function seccompProfile(security: SecurityConfig | undefined): string {
  if (security?.privileged) return 'unconfined';
  return parseSecurityOpts(security?.securityOpt ?? []).seccomp ?? 'builtin';
}

/** SecuredConfig is what a container's record says of its security: the options and
 * whether it runs with a filter at all (false: the library's seccomp: false, --privileged, seccomp=unconfined). */
export interface SecuredConfig {
  seccomp?: boolean;
  security?: SecurityConfig;
}

/** processSecurity is what every process of the container gets: its capabilities, no_new_privs and
 * syscall filter (compiled for those capabilities; cached under cacheDir). */
export function processSecurity(config: SecuredConfig, cacheDir?: string): ProcessSecurity {
  const { security } = config;
  const caps = security ? effectiveCapabilities(security) : DEFAULT_CAPABILITIES;
  const profile = seccompProfile(security);
  return {
    caps: capabilityMask(caps),
    noNewPrivs: parseSecurityOpts(security?.securityOpt ?? []).noNewPrivileges,
    seccompFilter: config.seccomp === false || profile === 'unconfined' ? null : seccompProgram(profile, caps, cacheDir),
  };
}

/** containerSecurity is what the child applies to a container's init. */
export function containerSecurity(config: SecuredConfig, cacheDir?: string): ContainerSecurity {
  const base = processSecurity(config, cacheDir);
  const { security } = config;
  if (!security) return base;
  return {
    ...base,
    privileged: security.privileged,
    readonlyRootfs: security.readonlyRootfs,
    sysctls: Object.entries(security.sysctls).flatMap(([key, value]) => [key.replaceAll('.', '/'), value]),
    devices: deviceNodes(security),
  };
}

/** deviceRules are the device cgroup rules a container adds to the default policy (null: the default alone). */
export function deviceRules(security: SecurityConfig | undefined): string[] | null {
  if (!security) return null;
  if (security.privileged) return ['a *:* rwm'];
  const rules = [
    ...security.devices.flatMap((device) => hostDevices(device.PathOnHost).map((node) => `${node.type} ${node.major}:${node.minor} ${device.CgroupPermissions}`)),
    ...security.deviceCgroupRules,
  ];
  return rules.length ? rules : null;
}

interface HostDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  stats: Stats;
}

// The device nodes at a host path: the node itself, or those under a directory (as Docker walks it).
function hostDevices(path: string): HostDevice[] {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw usage(`error gathering device information while adding custom device "${path}": ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  if (stats.isDirectory()) return walkDevices(path);
  if (!stats.isCharacterDevice() && !stats.isBlockDevice()) {
    throw usage(`error gathering device information while adding custom device "${path}": not a device node`);
  }
  return [deviceOf(path, stats)];
}

function deviceOf(path: string, stats: Stats): HostDevice {
  const rdev = stats.rdev;
  // glibc's gnu_dev_major/minor.
  const major = ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
  return { path, type: stats.isBlockDevice() ? 'b' : 'c', major, minor, stats };
}

/** Host /dev entries --privileged leaves out, as runc's GetDevices: not devices of this container's own. */
const PRIVILEGED_SKIP = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev', 'console', 'ptmx']);

function walkDevices(dir: string, skip = new Set<string>()): HostDevice[] {
  const found: HostDevice[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...walkDevices(path));
    else if (entry.isCharacterDevice() || entry.isBlockDevice()) {
      try {
        found.push(deviceOf(path, statSync(path)));
      } catch {
        // Gone since the listing.
      }
    }
  }
  return found;
}

/** deviceNodes are the nodes the child makes: each --device (its container path, the host's
 * mode and owner), or with --privileged every host device at its own path. */
export function deviceNodes(security: SecurityConfig): DeviceNode[] {
  const node = (device: HostDevice, path: string): DeviceNode => ({
    path,
    mode: (device.type === 'b' ? 0o60000 : 0o20000) | (device.stats.mode & 0o7777),
    major: device.major,
    minor: device.minor,
    uid: device.stats.uid,
    gid: device.stats.gid,
  });
  if (security.privileged) return walkDevices('/dev', PRIVILEGED_SKIP).map((device) => node(device, device.path));
  return security.devices.flatMap((mapping) => hostDevices(mapping.PathOnHost).map((device) =>
    node(device, mapping.PathInContainer + device.path.slice(mapping.PathOnHost.length))));
}

/** execSecurity is what `exec` runs a command with: the container's capabilities
 * and filter; --privileged gives every capability (the filter stays, as runc's exec keeps it). */
export function execSecurity(config: SecuredConfig, privileged: boolean, cacheDir?: string): ProcessSecurity {
  const own = processSecurity(config, cacheDir);
  return privileged ? { ...own, caps: capabilityMask(hostCapabilities()) } : own;
}
