// `docker container inspect`'s JSON shape for a container record.
import { networkSettings, type NetworkSettings } from './network-settings';
import { HOST_PLATFORM } from '../image/platform';
import type { Store } from '../image/store';
import { containerPaths, type ContainerConfig, type ContainerRecord } from './container-record';
import type { HealthState } from './container-state';
import type { DeviceMapping } from './security';
import { mountsInspect, recordedMounts, type MountInspect } from './container-mounts';
import { isUp, stateName, type StateName } from './container-status';
import { NO_RESTART, type RestartPolicyName } from './restart-policy';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './log-config';
import { hostConfigResources, type HostConfigResources } from './resources';
import { snapshotDirs } from './snapshot-layers';
import type { ContainerSize } from './container-usage';
import { portKey, portRequests, type PortBinding } from './ports';

/** ContainerInspect mirrors the Docker Engine API's ContainerInspect (the fields nbox has). */
export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: {
    Status: StateName;
    Running: boolean;
    Paused: boolean;
    Restarting: boolean;
    OOMKilled: boolean;
    Dead: boolean;
    Pid: number;
    ExitCode: number;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
    /** Once a container with a health check has started. */
    Health?: { Status: HealthState['status']; FailingStreak: number; Log: { Start: string; End: string; ExitCode: number; Output: string }[] };
  };
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  /** The json-file log a monitor writes. */
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  HostConfig: HostConfigResources & HostSecurityJson & {
    NetworkMode: string;
    RestartPolicy: { Name: RestartPolicyName; MaximumRetryCount: number };
    AutoRemove: boolean;
    Binds: string[] | null;
    Tmpfs: Record<string, string> | null;
    Init?: boolean;
    PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
    LogConfig: { Type: LogConfig['type']; Config: Record<string, string> };
  };
  GraphDriver: { Name: string; Data: { LowerDir: string; UpperDir: string; WorkDir: string; MergedDir: string } };
  /** With `size` only (`inspect --size`): the bytes the container wrote, and those with its image's, 0 included. */
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: MountInspect[];
  Config: Record<string, unknown>;
  NetworkSettings: NetworkSettings;
}

/** inspectContainer renders a container record as Docker does; with size, its sizes as well (Docker's pointers:
 * present, even when 0, only when asked). */
export async function inspectContainer(record: ContainerRecord, store: Store, size?: ContainerSize): Promise<ContainerInspect> {
  const { config, state } = record;
  const paths = containerPaths(record.dir);
  const image = await store.images.resolve(config.image).catch(() => null);
  const status = stateName(state);
  const policy = config.restartPolicy ?? NO_RESTART;
  const body = image?.config.config;
  return {
    Id: config.id,
    Created: config.created,
    Path: config.argv[0],
    Args: config.argv.slice(1),
    State: {
      Status: status,
      Running: isUp(state),
      Paused: status === 'paused',
      Restarting: status === 'restarting',
      OOMKilled: state.oomKilled ?? false,
      Dead: false,
      Pid: status === 'running' || status === 'paused' ? state.pid : 0,
      ExitCode: state.exitCode,
      Error: state.error,
      StartedAt: state.startedAt,
      FinishedAt: state.finishedAt,
      ...(state.health ? { Health: healthJson(state.health) } : {}),
    },
    Image: config.image,
    ResolvConfPath: paths.resolvConf,
    HostnamePath: paths.hostname,
    HostsPath: paths.hosts,
    LogPath: paths.log,
    Name: `/${config.name}`,
    RestartCount: state.restartCount ?? 0,
    Driver: 'overlay',
    Platform: HOST_PLATFORM.os,
    // No SELinux labels and no AppArmor profile are applied.
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    HostConfig: {
      NetworkMode: config.network,
      RestartPolicy: { Name: policy.name, MaximumRetryCount: policy.maximumRetryCount },
      AutoRemove: config.autoRemove,
      ...securityJson(config),
      Binds: hostBinds(record),
      Tmpfs: config.tmpfs && Object.keys(config.tmpfs).length ? config.tmpfs : null,
      // Init is Docker's *bool: left out unless --init set it.
      ...(config.init ? { Init: true } : {}),
      ...hostConfigResources(config.resources),
      // As asked (-p), host ports chosen: Docker keeps "" for a port left to it, nbox the one it chose.
      // Go marshals a map's keys sorted.
      LogConfig: { Type: (config.logConfig ?? DEFAULT_LOG_CONFIG).type, Config: Object.fromEntries(Object.entries((config.logConfig ?? DEFAULT_LOG_CONFIG).config).sort(([a], [b]) => (a < b ? -1 : 1))) },
      PortBindings: portBindings(config.ports ?? []),
    },
    NetworkSettings: networkSettings(record),
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: image ? [...snapshotDirs(record.dir), ...(await store.layers.dirs(image.config))].join(':') : '',
        UpperDir: paths.upper,
        WorkDir: paths.work,
        MergedDir: paths.rootfs,
      },
    },
    ...(size ? { SizeRw: size.rw, SizeRootFs: size.rootFs } : {}),
    Mounts: mountsInspect(recordedMounts(config), record.dir),
    Config: {
      Hostname: config.hostname,
      Domainname: '',
      User: config.user,
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      ...(config.exposedPorts ? { ExposedPorts: Object.fromEntries([...config.exposedPorts].sort().map((key) => [key, {}])) } : body?.ExposedPorts ? { ExposedPorts: body.ExposedPorts } : {}),
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: config.env,
      Cmd: config.cmd,
      ...(config.healthcheck ? { Healthcheck: config.healthcheck } : {}),
      Image: config.imageRef,
      Volumes: anonymousTargets(record),
      WorkingDir: config.workingDir,
      Entrypoint: config.entrypoint,
      OnBuild: null,
      Labels: config.labels,
      // Docker copies the image's STOPSIGNAL into the container's config unless --stop-signal set one; the
      // image is immutable, so it still says it.
      ...(config.stopSignal ?? body?.StopSignal ? { StopSignal: config.stopSignal ?? body?.StopSignal } : {}),
      ...(config.stopTimeout !== undefined ? { StopTimeout: config.stopTimeout } : {}),
    },
  };
}

// anonymousTargets is Config.Volumes: the paths of the container's anonymous volumes (its image's VOLUMEs, -v /path), as Docker lists them.
function anonymousTargets(record: ContainerRecord): Record<string, Record<string, never>> | null {
  const targets = recordedMounts(record.config).filter((m) => m.anonymous).map((m) => m.target);
  return targets.length > 0 ? Object.fromEntries(targets.map((target) => [target, {}])) : null;
}

// hostBinds is HostConfig.Binds: the -v host binds, as given.
function hostBinds(record: ContainerRecord): string[] | null {
  const binds = recordedMounts(record.config).filter((m) => m.type === 'bind' && m.createHostPath)
    .map((m) => `${m.source}:${m.target}${m.mode ? `:${m.mode}` : ''}`);
  return binds.length > 0 ? binds : null;
}

function healthJson(health: HealthState): NonNullable<ContainerInspect['State']['Health']> {
  return {
    // A monitor that has not written a status yet reads as unhealthy, as Docker's does.
    Status: health.status || 'unhealthy',
    FailingStreak: health.failingStreak,
    Log: health.log.map((probe) => ({ Start: probe.start, End: probe.end, ExitCode: probe.exitCode, Output: probe.output })),
  };
}

/** HostSecurityJson is HostConfig's security fields. */
export interface HostSecurityJson {
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  GroupAdd: string[] | null;
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  Devices: DeviceMapping[];
  DeviceCgroupRules: string[] | null;
  Sysctls?: Record<string, string>;
}

// The HostConfig fields of the security options, as Docker shows them (a
// record from before they existed, or the library's seccomp: false, says what it ran with).
function securityJson(config: ContainerConfig): HostSecurityJson {
  const security = config.security;
  const securityOpt = security?.securityOpt ?? (config.seccomp === false && !security?.privileged ? ['seccomp=unconfined'] : null);
  return {
    CapAdd: security?.capAdd ?? null,
    CapDrop: security?.capDrop ?? null,
    GroupAdd: security?.groupAdd.length ? security.groupAdd : null,
    Privileged: security?.privileged ?? false,
    ReadonlyRootfs: security?.readonlyRootfs ?? false,
    SecurityOpt: securityOpt,
    Devices: security?.devices ?? [],
    DeviceCgroupRules: security?.deviceCgroupRules.length ? security.deviceCgroupRules : null,
    ...(security && Object.keys(security.sysctls).length ? { Sysctls: security.sysctls } : {}),
  };
}

// portBindings is HostConfig.PortBindings: the requests, by container port.
function portBindings(ports: PortBinding[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const map: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of portRequests(ports)) (map[portKey(port)] ??= []).push({ HostIp: port.hostIp, HostPort: String(port.hostPort) });
  return map;
}
