// A container create body (Docker's Config plus HostConfig) as run options:
// what nbox does not do is refused by name rather than silently dropped.
import { parseMountFlag, parseVolumeFlag, type MountSpec, type Resources, type RunOptions } from '../api';
import { checkCreateBody } from './body-shape';
import { EngineError } from './http';

/** CreateBody is the part of Docker's container create body nbox reads. */
export interface CreateBody {
  Image?: string;
  /** EXPOSE'd ports (`80/tcp`): -P publishes them too. */
  ExposedPorts?: Record<string, object> | null;
  Cmd?: string[] | string | null;
  Entrypoint?: string[] | string | null;
  Env?: string[] | null;
  User?: string;
  WorkingDir?: string;
  Hostname?: string;
  Labels?: Record<string, string> | null;
  /** Anonymous volumes (`docker run -v /path`): their container paths as keys. */
  Volumes?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StopSignal?: string;
  /** Seconds stop waits before the kill; null is the default (10). */
  StopTimeout?: number | null;
  Healthcheck?: { Test?: string[] | null; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number } | null;
  HostConfig?: HostConfig | null;
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointConfig | null> | null } | null;
}

/** EndpointConfig is a container's place on one network: its aliases and address there. */
export interface EndpointConfig {
  Aliases?: string[] | null;
  IPAMConfig?: { IPv4Address?: string } | null;
}

interface HostConfig extends ResourceFields {
  Binds?: string[] | null;
  Mounts?: Array<ApiMount | null> | null;
  VolumesFrom?: string[] | null;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  ReadonlyRootfs?: boolean;
  Devices?: Array<{ PathOnHost: string; PathInContainer?: string; CgroupPermissions?: string } | null> | null;
  DeviceCgroupRules?: string[] | null;
  Sysctls?: Record<string, string> | null;
  GroupAdd?: string[] | null;
  AutoRemove?: boolean;
  NetworkMode?: string;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number } | null;
  Init?: boolean | null;
  Tmpfs?: Record<string, string> | null;
  SecurityOpt?: string[] | null;
  Privileged?: boolean;
  PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string } | null> | null> | null;
  PublishAllPorts?: boolean;
  ExtraHosts?: string[] | null;
  Dns?: string[] | null;
  DnsSearch?: string[] | null;
  DnsOptions?: string[] | null;
  LogConfig?: { Type?: string; Config?: Record<string, string> | null } | null;
  PidMode?: string;
  IpcMode?: string;
  UTSMode?: string;
}

/** ResourceFields are HostConfig's limits, under Docker's names. */
interface ResourceFields {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpusetCpus?: string;
  PidsLimit?: number | null;
  Ulimits?: Array<{ Name: string; Soft: number; Hard: number }> | null;
  OomKillDisable?: boolean | null;
  CgroupParent?: string;
}

/** ApiMount is one HostConfig.Mounts entry. */
interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string } | null;
  VolumeOptions?: { NoCopy?: boolean } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

/** createOptions reads a create body: the image and the run options of the container it makes. */
export function createOptions(body: CreateBody): { image: string; options: RunOptions } {
  checkCreateBody(body as Record<string, unknown>);
  if (!body.Image) throw new EngineError(400, 'config: image is required');
  const host = body.HostConfig ?? {};
  checkNamespaceModes(host);
  const options: RunOptions = {
    cmd: stringList(body.Cmd),
    entrypoint: entrypoint(body.Entrypoint),
    env: body.Env ?? undefined,
    user: body.User || undefined,
    workdir: body.WorkingDir || undefined,
    hostname: body.Hostname || undefined,
    labels: body.Labels ?? undefined,
    tty: body.Tty ?? false,
    interactive: body.OpenStdin ?? false,
    autoRemove: host.AutoRemove ?? false,
    ...endpoint(networkMode(host.NetworkMode, body.NetworkingConfig?.EndpointsConfig), body.NetworkingConfig?.EndpointsConfig),
    publish: publish(host.PortBindings),
    publishAll: host.PublishAllPorts ?? false,
    expose: Object.keys(body.ExposedPorts ?? {}),
    addHosts: host.ExtraHosts ?? undefined,
    dns: host.Dns ?? undefined,
    dnsSearch: host.DnsSearch ?? undefined,
    dnsOptions: host.DnsOptions ?? undefined,
    mounts: [...Object.keys(body.Volumes ?? {}).map(bind), ...(host.Binds ?? []).map(bind), ...(host.Mounts ?? []).map((entry) => mount(entry ?? {}))],
    volumesFrom: host.VolumesFrom ?? undefined,
    resources: resourcesOf(host),
    capAdd: host.CapAdd ?? undefined,
    capDrop: host.CapDrop ?? undefined,
    privileged: host.Privileged ?? false,
    readOnly: host.ReadonlyRootfs ?? false,
    securityOpt: securityOpts(host.SecurityOpt),
    devices: (host.Devices ?? []).map((device) => device ?? { PathOnHost: '' }).map((d) => [d.PathOnHost, d.PathInContainer || d.PathOnHost, d.CgroupPermissions || 'rwm'].join(':')),
    deviceCgroupRules: host.DeviceCgroupRules ?? undefined,
    sysctls: Object.entries(host.Sysctls ?? {}).map(([key, value]) => `${key}=${value}`),
    groupAdd: host.GroupAdd ?? undefined,
    tmpfs: host.Tmpfs ?? undefined,
    init: host.Init ?? undefined,
    restart: restartPolicyOf(host.RestartPolicy),
    healthcheck: healthcheck(body.Healthcheck),
    stopSignal: body.StopSignal || undefined,
    stopTimeout: body.StopTimeout ?? undefined,
    logDriver: host.LogConfig?.Type || undefined,
    logOpts: host.LogConfig?.Config ?? undefined,
  };
  return { image: body.Image, options };
}

function stringList(value: string[] | string | null | undefined): string[] | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? [value] : value;
}

// The namespace modes a container may have: its own PID, IPC and UTS namespaces (Docker's defaults). One that
// shares the host's or another container's is refused, not ignored: the container would be other than asked.
const NAMESPACE_MODES: Record<'PidMode' | 'IpcMode' | 'UTSMode', string[]> = { PidMode: [''], IpcMode: ['', 'private', 'shareable'], UTSMode: [''] };

function checkNamespaceModes(host: HostConfig): void {
  for (const [field, allowed] of Object.entries(NAMESPACE_MODES) as Array<[keyof typeof NAMESPACE_MODES, string[]]>) {
    const mode = host[field];
    if (mode !== undefined && !allowed.includes(mode)) {
      throw new EngineError(400, `${field} ${JSON.stringify(mode)} is not supported: a container has a namespace of its own`);
    }
  }
}

// securityOpts are the options as Docker's daemon takes them: a seccomp profile is its JSON, which the docker CLI
// read from the file it was given. A path is not read here: a client names no host file but a bind's source.
function securityOpts(options: string[] | null | undefined): string[] | undefined {
  for (const option of options ?? []) {
    const profile = /^seccomp[=:](.*)$/s.exec(option)?.[1];
    if (profile !== undefined && !['unconfined', 'builtin', ''].includes(profile) && !profile.startsWith('{')) {
      throw new EngineError(400, `Decoding seccomp profile failed: invalid character '${profile.charAt(0)}' looking for beginning of value`);
    }
  }
  return options ?? undefined;
}

/** entrypoint is the body's: null or [] keeps the image's, [""] clears it (the docker CLI's `--entrypoint ""`). */
function entrypoint(value: string[] | string | null | undefined): string | string[] | undefined {
  const list = stringList(value);
  if (!list || list.length === 0) return undefined;
  if (list.length === 1 && list[0] === '') return '';
  return list;
}

/** publish turns PortBindings into `-p` values: `[IP:][HOSTPORT:]PORT/PROTO` (an empty host port asks for a free one;
 * no HostIp, both families' addresses; 0.0.0.0, IPv4's alone, as the daemon reads them). */
function publish(bindings: HostConfig['PortBindings']): string[] {
  const specs: string[] = [];
  for (const [port, hosts] of Object.entries(bindings ?? {})) {
    for (const host of hosts?.length ? hosts.map((binding) => binding ?? {}) : [{}]) {
      const ip = !host.HostIp ? '' : host.HostIp.includes(':') ? `[${host.HostIp}]:` : `${host.HostIp}:`;
      specs.push(ip ? `${ip}${host.HostPort ?? ''}:${port}` : host.HostPort ? `${host.HostPort}:${port}` : port);
    }
  }
  return specs;
}

/** networkMode maps Docker's `default` onto the bridge, or the one network EndpointsConfig names; other names
 * pass for run to check. */
function networkMode(mode: string | undefined, endpoints: Record<string, EndpointConfig | null> | null | undefined): string {
  if (mode === undefined || mode === '' || mode === 'default') return Object.keys(endpoints ?? {})[0] ?? 'bridge';
  return mode;
}

// endpoint is the run options of the container's network: its EndpointsConfig entry's aliases and address.
// A create names one network, as the docker CLI does; more are for `network connect`.
function endpoint(network: string, endpoints: Record<string, EndpointConfig | null> | null | undefined): Pick<RunOptions, 'network' | 'networkAliases' | 'ip'> {
  const names = Object.keys(endpoints ?? {});
  if (names.some((name) => name !== network)) throw new EngineError(400, `Container cannot be connected to network endpoints: ${names.join(', ')}: create it on one, connect it to the others`);
  const config = endpoints?.[network];
  return {
    network,
    ...(config?.Aliases?.length ? { networkAliases: config.Aliases } : {}),
    ...(config?.IPAMConfig?.IPv4Address ? { ip: config.IPAMConfig.IPv4Address } : {}),
  };
}

/** bind reads a Binds entry, `SOURCE:TARGET[:OPTIONS]`, as the daemon does: SOURCE an absolute host path or a
 * volume name (a relative path is neither). */
function bind(entry: string): MountSpec {
  if (entry.startsWith('.')) throw new EngineError(400, `invalid volume specification: '${entry}'`);
  return parseVolumeFlag(entry, '/').mount;
}

/** mount reads a Mounts entry through `--mount`'s parser, so both get Docker's checks and messages. */
function mount(entry: ApiMount): MountSpec {
  const fields = [`type=${entry.Type ?? 'volume'}`];
  if (entry.Source) fields.push(`source=${entry.Source}`);
  if (entry.Target) fields.push(`target=${entry.Target}`);
  if (entry.ReadOnly) fields.push('readonly');
  if (entry.BindOptions?.Propagation) fields.push(`bind-propagation=${entry.BindOptions.Propagation}`);
  if (entry.VolumeOptions?.NoCopy) fields.push('volume-nocopy');
  if (entry.TmpfsOptions?.SizeBytes) fields.push(`tmpfs-size=${entry.TmpfsOptions.SizeBytes}`);
  if (entry.TmpfsOptions?.Mode) fields.push(`tmpfs-mode=${entry.TmpfsOptions.Mode.toString(8)}`);
  if (fields.some((field) => field.includes(','))) throw new EngineError(400, 'invalid mount config: a field holds a comma');
  return parseMountFlag(fields.join(',')).mount;
}

/** UpdateBody is POST /containers/{id}/update's body: the limits and the restart policy. */
export type UpdateBody = ResourceFields & { RestartPolicy?: HostConfig['RestartPolicy'] };

/** resourcesOf reads HostConfig's limits; run and update check them with the daemon's messages. */
export function resourcesOf(host: ResourceFields): Resources | undefined {
  const limits: Resources = {
    memory: host.Memory || undefined,
    memorySwap: host.MemorySwap || undefined,
    memoryReservation: host.MemoryReservation || undefined,
    nanoCpus: host.NanoCpus || undefined,
    cpuShares: host.CpuShares || undefined,
    cpusetCpus: host.CpusetCpus || undefined,
    pidsLimit: host.PidsLimit || undefined,
    ulimits: host.Ulimits?.length ? host.Ulimits : undefined,
    oomKillDisable: host.OomKillDisable || undefined,
    cgroupParent: host.CgroupParent || undefined,
  };
  const given = Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined)) as Resources;
  return Object.keys(given).length ? given : undefined;
}

/** restartPolicyOf is a RestartPolicy as `--restart` writes it. */
export function restartPolicyOf(policy: HostConfig['RestartPolicy']): string | undefined {
  if (!policy?.Name) return undefined;
  return policy.MaximumRetryCount ? `${policy.Name}:${policy.MaximumRetryCount}` : policy.Name;
}

function healthcheck(value: CreateBody['Healthcheck']): RunOptions['healthcheck'] {
  if (!value) return undefined;
  const test = value.Test ?? [];
  if (test[0] === 'NONE') return { disable: true };
  return {
    test: test.length > 0 ? test : undefined,
    interval: value.Interval || undefined,
    timeout: value.Timeout || undefined,
    startPeriod: value.StartPeriod || undefined,
    startInterval: value.StartInterval || undefined,
    retries: value.Retries || undefined,
  };
}
