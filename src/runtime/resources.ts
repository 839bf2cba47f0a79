// Resource limits as Docker's HostConfig holds them (`-m`, `--cpus`,
// `--pids-limit`, `--ulimit`…): the CLI's parsing of each flag, with the docker
// CLI's words for a bad value, and the daemon's checks of the whole, with its
// words. Pure: no cgroup is touched here (cgroup-limits.ts writes them).
import { NboxError } from '../errors';

/** Ulimit is one `--ulimit name=soft[:hard]`, as Docker's HostConfig.Ulimits holds it. */
export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** Resources are the limits a container runs under; 0 (or absent) sets none, as in Docker. */
export interface Resources {
  /** -m: bytes. */
  memory?: number;
  /** --memory-swap: memory plus swap, bytes; -1 is unlimited swap. */
  memorySwap?: number;
  /** --memory-reservation: a soft limit, bytes. */
  memoryReservation?: number;
  /** --cpus × 1e9. */
  nanoCpus?: number;
  /** --cpu-shares: a relative weight (1024 is the default). */
  cpuShares?: number;
  /** --cpuset-cpus: a CPU list, `0-2,4`. */
  cpusetCpus?: string;
  /** --pids-limit: 0 or -1 is unlimited. */
  pidsLimit?: number;
  ulimits?: Ulimit[];
  oomKillDisable?: boolean;
  /** --cgroup-parent: the group the container's group is made under, from the hierarchy's root. */
  cgroupParent?: string;
}

/** MIN_MEMORY is the daemon's smallest memory limit (linuxMinMemory). */
export const MIN_MEMORY = 6 * 1024 * 1024;
/** CPU_PERIOD_US is the CFS period a --cpus quota is a share of, as Docker's. */
export const CPU_PERIOD_US = 100_000;

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** parseBytes is go-units' RAMInBytes: a number with an optional binary unit (b, k, m, g, t, p; kb, mib… alike). */
export function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmMgGtTpPbB]?)(?:[iI]?[bB])?$/.exec(text);
  if (!match) throw new Error(`invalid size: '${text}'`);
  return Math.trunc(Number(match[1]) * UNITS[match[2].toLowerCase()]);
}

/** parseMemoryFlag reads -m, --memory-reservation or --memory-swap as the docker CLI does (swap also takes -1). */
export function parseMemoryFlag(text: string, flag: string, allowUnlimited = false): number {
  if (allowUnlimited && text === '-1') return -1;
  try {
    return parseBytes(text);
  } catch (err) {
    throw flagError(text, flag, (err as Error).message);
  }
}

/** parseCpus reads --cpus as the docker CLI's NanoCPUs: a rational number, at most 9 decimals. */
export function parseCpus(text: string): number {
  const match = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (match[1] === '' && !match[2])) throw flagError(text, '--cpus', `failed to parse ${text} as a rational number`);
  const decimals = match[2] ?? '';
  if (decimals.replace(/0+$/, '').length > 9) throw flagError(text, '--cpus', 'value is too precise');
  return Number(match[1] || '0') * 1e9 + Number((decimals + '000000000').slice(0, 9));
}

/** parseIntFlag reads an integer flag as pflag does (decimal only is enough for these flags). */
export function parseIntFlag(text: string, flag: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw flagError(text, flag, `strconv.ParseInt: parsing "${text}": invalid syntax`);
  return Number(text);
}

const RLIMITS: Record<string, number> = {
  core: 4, cpu: 0, data: 2, fsize: 1, locks: 10, memlock: 8, msgqueue: 12, nice: 13,
  nofile: 7, nproc: 6, rss: 5, rtprio: 14, rttime: 15, sigpending: 11, stack: 3,
};

/** rlimitNumber is the kernel's RLIMIT_* number of a ulimit name (x86 and arm alike). */
export function rlimitNumber(name: string): number {
  return RLIMITS[name];
}

/** parseUlimit is go-units' ParseUlimit: name=soft[:hard], hard defaulting to soft. */
export function parseUlimit(text: string): Ulimit {
  const fail = (message: string) => flagError(text, '--ulimit', message);
  const eq = text.indexOf('=');
  if (eq < 0) throw fail(`invalid ulimit argument: ${text}`);
  const name = text.slice(0, eq);
  if (!(name in RLIMITS)) throw fail(`invalid ulimit type: ${name}`);
  const values = text.slice(eq + 1).split(':');
  if (values.length > 2) throw fail(`too many limit value arguments - ${text.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const int = (value: string) => {
    if (!/^[+-]?\d+$/.test(value)) throw fail(`strconv.ParseInt: parsing "${value}": invalid syntax`);
    return Number(value);
  };
  const hard = values.length === 2 ? int(values[1]) : undefined;
  const soft = int(values[0]);
  if (hard !== undefined && soft > hard) throw fail(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Soft: soft, Hard: hard ?? soft };
}

/** parseCpuset reads a cpuset list (`0-2,4`) into CPU numbers; null when malformed. */
export function parseCpuset(list: string): number[] | null {
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!range) return null;
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (to < from) return null;
    for (let cpu = from; cpu <= to; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** LimitHost is what the daemon's checks look at: the CPUs there are, and the cgroup version. */
export interface LimitHost {
  cpus: number;
  /** cgroup v2, which has no way to turn the OOM killer off. */
  unified: boolean;
  /** The CPUs a cpuset may name (the parent group's cpuset.cpus). */
  availableCpus: number[];
}

/** validateResources applies the daemon's checks, with its words; it returns the limits as the
 * daemon keeps them (MemorySwap twice Memory when only -m is given). */
export function validateResources(resources: Resources, host: LimitHost): Resources {
  const r = { ...resources };
  const daemon = (message: string) => new NboxError('ERR_NBOX_USAGE', message);
  if (r.memory && r.memory > 0 && r.memory < MIN_MEMORY) throw daemon('Minimum memory limit allowed is 6MB');
  if (r.memorySwap && r.memorySwap > 0 && !r.memory) throw daemon('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (r.memory && r.memorySwap && r.memorySwap > 0 && r.memorySwap < r.memory) {
    throw daemon('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (r.memoryReservation && r.memoryReservation > 0 && r.memoryReservation < MIN_MEMORY) throw daemon('Minimum memory reservation allowed is 6MB');
  if (r.memory && r.memoryReservation && r.memory < r.memoryReservation) {
    throw daemon('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (r.nanoCpus !== undefined && r.nanoCpus !== 0 && (r.nanoCpus < 0.01e9 || r.nanoCpus > host.cpus * 1e9)) {
    throw daemon(`Range of CPUs is from 0.01 to ${host.cpus}.00, as there are only ${host.cpus} CPUs available`);
  }
  if (r.cpuShares !== undefined && r.cpuShares < 0) throw daemon(`invalid CPU shares (${r.cpuShares}): value must be a positive integer`);
  if (r.cpusetCpus) {
    const cpus = parseCpuset(r.cpusetCpus);
    if (!cpus) throw daemon(`Invalid value ${r.cpusetCpus} for cpuset cpus`);
    if (cpus.some((cpu) => !host.availableCpus.includes(cpu))) {
      throw daemon(`Requested CPUs are not available - requested ${r.cpusetCpus}, available: ${cpusetText(host.availableCpus)}`);
    }
  }
  if (r.cgroupParent !== undefined && r.cgroupParent !== '') {
    // A parent names a group inside the hierarchy: no way out of it.
    if (r.cgroupParent.split('/').some((part) => part === '..' || part === '.')) throw daemon(`invalid cgroup parent: ${r.cgroupParent}`);
  }
  if (r.memory && r.memory > 0 && !r.memorySwap) r.memorySwap = r.memory * 2;
  // As the daemon on v2: discarded, with a warning (limitWarnings).
  if (host.unified) delete r.oomKillDisable;
  return r;
}

/** cpusetText writes CPU numbers as a cpuset list, runs as ranges. */
export function cpusetText(cpus: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; i++) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j;
  }
  return parts.join(',');
}

/** HostConfigResources are the limit fields of Docker's HostConfig in `inspect`. */
export interface HostConfigResources {
  CgroupParent: string;
  CpuShares: number;
  Memory: number;
  NanoCpus: number;
  CpusetCpus: string;
  MemoryReservation: number;
  MemorySwap: number;
  OomKillDisable: boolean;
  PidsLimit: number | null;
  Ulimits: Ulimit[] | null;
}

/** hostConfigResources renders limits as inspect shows them: 0 for a limit not set, PidsLimit null. */
export function hostConfigResources(r: Resources = {}): HostConfigResources {
  return {
    CgroupParent: r.cgroupParent ?? '',
    CpuShares: r.cpuShares ?? 0,
    Memory: r.memory ?? 0,
    NanoCpus: r.nanoCpus ?? 0,
    CpusetCpus: r.cpusetCpus ?? '',
    MemoryReservation: r.memoryReservation ?? 0,
    MemorySwap: r.memorySwap ?? 0,
    OomKillDisable: r.oomKillDisable ?? false,
    PidsLimit: r.pidsLimit ? r.pidsLimit : null,
    Ulimits: r.ulimits?.length ? r.ulimits : null,
  };
}

/** ResourceFlags are the limit flags as the command line gives them (run, create, update). */
export interface ResourceFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  pidsLimit?: string;
  ulimit?: string[];
  oomKillDisable?: boolean;
  cgroupParent?: string;
}

/** resourcesFromFlags parses the flags given, with the docker CLI's words for a bad value; undefined when none is. */
export function resourcesFromFlags(flags: ResourceFlags): Resources | undefined {
  const r: Resources = {};
  if (flags.memory !== undefined) r.memory = parseMemoryFlag(flags.memory, '-m, --memory');
  if (flags.memorySwap !== undefined) r.memorySwap = parseMemoryFlag(flags.memorySwap, '--memory-swap', true);
  if (flags.memoryReservation !== undefined) r.memoryReservation = parseMemoryFlag(flags.memoryReservation, '--memory-reservation');
  if (flags.cpus !== undefined) r.nanoCpus = parseCpus(flags.cpus);
  if (flags.cpuShares !== undefined) r.cpuShares = parseIntFlag(flags.cpuShares, '-c, --cpu-shares');
  if (flags.cpusetCpus !== undefined) r.cpusetCpus = flags.cpusetCpus;
  if (flags.pidsLimit !== undefined) r.pidsLimit = parseIntFlag(flags.pidsLimit, '--pids-limit');
  if (flags.ulimit?.length) r.ulimits = flags.ulimit.map(parseUlimit);
  if (flags.oomKillDisable) r.oomKillDisable = true;
  if (flags.cgroupParent !== undefined) r.cgroupParent = flags.cgroupParent;
  return Object.keys(r).length > 0 ? r : undefined;
}

/** limitWarnings are the daemon's warnings for limits it accepts: --oom-kill-disable on v2 (discarded), or without -m. */
export function limitWarnings(r: Resources, unified: boolean): string[] {
  if (r.oomKillDisable && unified) return ['WARNING: Your kernel does not support OomKillDisable. OomKillDisable discarded.'];
  return r.oomKillDisable && !r.memory ? ["WARNING: Disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous."] : [];
}

function flagError(value: string, flag: string, message: string): NboxError {
  return new NboxError('ERR_NBOX_USAGE', `invalid argument "${value}" for "${flag}" flag: ${message}`);
}
