// `docker container inspect`'s JSON shape for a container record.
import { networkSettings, type NetworkSettings } from './network-settings';
import { HOST_PLATFORM } from '../image/platform';
import type { Store } from '../image/store';
import { containerPaths, type ContainerRecord, type HealthState } from './containers';
import { isUp, stateName, type StateName } from './container-status';
import { NO_RESTART, type RestartPolicyName } from './restart-policy';

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
  HostConfig: {
    NetworkMode: string;
    RestartPolicy: { Name: RestartPolicyName; MaximumRetryCount: number };
    AutoRemove: boolean;
    SecurityOpt: string[] | null;
    Binds: string[] | null;
    Tmpfs: Record<string, string> | null;
    Init?: boolean;
    PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
  };
  GraphDriver: { Name: string; Data: { LowerDir: string; UpperDir: string; WorkDir: string; MergedDir: string } };
  Mounts: { Type: 'bind'; Source: string; Destination: string; Mode: string; RW: boolean; Propagation: string }[];
  Config: Record<string, unknown>;
  NetworkSettings: NetworkSettings;
}

/** inspectContainer renders a container record as Docker does. */
export async function inspectContainer(record: ContainerRecord, store: Store): Promise<ContainerInspect> {
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
      SecurityOpt: config.seccomp === false ? ['seccomp=unconfined'] : null,
      Binds: config.binds?.length ? config.binds.map((bind) => `${bind.source}:${bind.target}${bind.readonly ? ':ro' : ''}`) : null,
      Tmpfs: config.tmpfs && Object.keys(config.tmpfs).length ? config.tmpfs : null,
      // Init is Docker's *bool: left out unless --init set it.
      ...(config.init ? { Init: true } : {}),
      // As asked (-p), host ports chosen: Docker keeps "" for a port left to it, nbox the one it chose.
      PortBindings: Object.fromEntries((config.ports ?? []).map((port) => [`${port.containerPort}/${port.protocol}`, [{ HostIp: port.hostIp, HostPort: String(port.hostPort) }]])),
    },
    NetworkSettings: networkSettings(record),
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: image ? (await store.layers.dirs(image.config)).join(':') : '',
        UpperDir: paths.upper,
        WorkDir: paths.work,
        MergedDir: paths.rootfs,
      },
    },
    Mounts: (config.binds ?? []).map((bind) => ({ Type: 'bind', Source: bind.source, Destination: bind.target, Mode: bind.readonly ? 'ro' : '', RW: !bind.readonly, Propagation: 'rprivate' })),
    Config: {
      Hostname: config.hostname,
      Domainname: '',
      User: config.user,
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      ...(body?.ExposedPorts ? { ExposedPorts: body.ExposedPorts } : {}),
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: config.env,
      Cmd: config.cmd,
      ...(config.healthcheck ? { Healthcheck: config.healthcheck } : {}),
      Image: config.imageRef,
      Volumes: null,
      WorkingDir: config.workingDir,
      Entrypoint: config.entrypoint,
      OnBuild: null,
      Labels: config.labels,
      // Docker copies the image's STOPSIGNAL into the container's config; the image is immutable, so it still says it.
      ...(body?.StopSignal ? { StopSignal: body.StopSignal } : {}),
    },
  };
}

function healthJson(health: HealthState): NonNullable<ContainerInspect['State']['Health']> {
  return {
    // A monitor that has not written a status yet reads as unhealthy, as Docker's does.
    Status: health.status || 'unhealthy',
    FailingStreak: health.failingStreak,
    Log: health.log.map((probe) => ({ Start: probe.start, End: probe.end, ExitCode: probe.exitCode, Output: probe.output })),
  };
}
