// `docker container inspect`'s JSON shape for a container record.
import { HOST_PLATFORM } from '../image/platform';
import type { Store } from '../image/store';
import { containerPaths, type ContainerRecord } from './containers';

/** ContainerInspect mirrors the Docker Engine API's ContainerInspect (the fields nbox has). */
export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: {
    Status: string;
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
  };
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  HostConfig: { NetworkMode: string; AutoRemove: boolean; Binds: string[] | null; Tmpfs: Record<string, string> | null; Init?: boolean };
  GraphDriver: { Name: string; Data: { LowerDir: string; UpperDir: string; WorkDir: string; MergedDir: string } };
  Mounts: { Type: 'bind'; Source: string; Destination: string; Mode: string; RW: boolean; Propagation: string }[];
  Config: Record<string, unknown>;
}

/** inspectContainer renders a container record as Docker does. */
export async function inspectContainer(record: ContainerRecord, store: Store): Promise<ContainerInspect> {
  const { config, state } = record;
  const paths = containerPaths(record.dir);
  const image = await store.images.resolve(config.image).catch(() => null);
  const running = state.status === 'running';
  return {
    Id: config.id,
    Created: config.created,
    Path: config.argv[0],
    Args: config.argv.slice(1),
    State: {
      Status: running && state.paused ? 'paused' : state.status,
      Running: running,
      Paused: running && (state.paused ?? false),
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: running ? state.pid : 0,
      ExitCode: state.exitCode,
      Error: state.error,
      StartedAt: state.startedAt,
      FinishedAt: state.finishedAt,
    },
    Image: config.image,
    ResolvConfPath: paths.resolvConf,
    HostnamePath: paths.hostname,
    HostsPath: paths.hosts,
    Name: `/${config.name}`,
    RestartCount: 0,
    Driver: 'overlay',
    Platform: HOST_PLATFORM.os,
    HostConfig: {
      NetworkMode: config.network,
      AutoRemove: config.autoRemove,
      Binds: config.binds?.length ? config.binds.map((bind) => `${bind.source}:${bind.target}${bind.readonly ? ':ro' : ''}`) : null,
      Tmpfs: config.tmpfs && Object.keys(config.tmpfs).length ? config.tmpfs : null,
      // Init is Docker's *bool: left out unless --init set it.
      ...(config.init ? { Init: true } : {}),
    },
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
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: config.env,
      Cmd: config.cmd,
      Image: config.imageRef,
      Volumes: null,
      WorkingDir: config.workingDir,
      Entrypoint: config.entrypoint,
      OnBuild: null,
      Labels: config.labels,
    },
  };
}
