// A container's record: the config it was created with, its state, and the
// layout of its directory, containers/<id>/.
import { basename, join } from 'node:path';

import { randomBytes } from '../sys/random';
import type { ContainerDirs } from './container-spec';
import type { ContainerState, ProcessIdentity } from './container-state';
import type { ExtraHost } from './etc-files';
import type { HealthConfig } from './health-config';
import type { LogConfig } from './log-config';
import type { MountSpec } from './mount-spec';
import type { NetworkEndpoint, NetworkMode } from './network';
import type { PortBinding } from './ports';
import type { Resources } from './resources';
import type { RestartPolicy } from './restart-policy';
import type { SecurityConfig } from './security';

/** ContainerConfig is what a container was created with; only rename and update change it. */
export interface ContainerConfig {
  id: string;
  name: string;
  created: string;
  /** Image ID (sha256:...) and the reference the user gave. */
  image: string;
  imageRef: string;
  /** The effective entrypoint and cmd, and the argv they make. */
  entrypoint: string[] | null;
  cmd: string[] | null;
  argv: string[];
  env: string[];
  user: string;
  workingDir: string;
  hostname: string;
  network: NetworkMode;
  /** The user networks it is on (`network` first, if it is one; more by `network connect`), by name. */
  networks?: Record<string, NetworkEndpoint>;
  /** --add-host, --dns, --dns-search and --dns-option. */
  extraHosts?: ExtraHost[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** -p and -P, their host ports chosen (bridge network only). */
  ports?: PortBinding[];
  /** Docker's Config.ExposedPorts (`80/tcp`): the image's EXPOSE, --expose and -p's container ports. */
  exposedPorts?: string[];
  /** -t: its 0-2 are a terminal (Docker's Config.Tty). */
  tty?: boolean;
  /** -i: a monitor keeps its stdin open for attach clients (Docker's Config.OpenStdin). */
  openStdin?: boolean;
  autoRemove: boolean;
  labels: Record<string, string>;
  /** false when it runs without the default syscall filter: what `exec` then does too. */
  seccomp?: boolean;
  /** --cap-*, --privileged, --read-only, --security-opt, --device*, --sysctl, --group-add; absent: Docker's defaults. */
  security?: SecurityConfig;
  /** -v host binds, in records made before `mounts` (which holds them since). */
  binds?: { source: string; target: string; readonly: boolean }[];
  /** -v, --mount, --volumes-from and the image's VOLUMEs: binds, volumes (by name) and tmpfs mounts. */
  mounts?: MountSpec[];
  /** --tmpfs mounts, as run was given them. */
  tmpfs?: Record<string, string>;
  /** Runs under docker-init (tini) as PID 1 (`--init`); argv is still the command it runs. */
  init?: boolean;
  /** --restart, for the monitor; records made before it existed mean `no`. */
  restartPolicy?: RestartPolicy;
  /** The image's HEALTHCHECK merged with --health-*, as Docker's Config.Healthcheck; absent when neither sets one. */
  healthcheck?: HealthConfig;
  /** --stop-signal (as given: Docker keeps the text) and --stop-timeout (seconds): what stop and restart
   * use when not told; absent, the image's STOPSIGNAL (else TERM) and 10 s. */
  stopSignal?: string;
  stopTimeout?: number;
  /** --log-driver and --log-opt; absent in records made before them: json-file. */
  logConfig?: LogConfig;
  /** Limits (-m, --cpus, --ulimit…), as the daemon keeps them; `update` changes them. */
  resources?: Resources;
  /** The process whose session it belongs to (RunOptions.session): it is killed and removed once that process dies. */
  session?: ProcessIdentity;
}

/** ContainerRecord is a container as read from the store. */
export interface ContainerRecord {
  config: ContainerConfig;
  state: ContainerState;
  dir: string;
}

/** ContainerPaths are the directories and files of one container. */
export interface ContainerPaths extends ContainerDirs {
  dir: string;
  /** Docker's json-file log, `<id>-json.log`, which a `-d` container's monitor appends to. */
  log: string;
}

/** containerPaths lays out a container directory. */
export function containerPaths(dir: string): ContainerPaths {
  return {
    dir,
    log: join(dir, `${basename(dir)}-json.log`),
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    rootfs: join(dir, 'rootfs'),
    emptyLower: join(dir, 'empty'),
    hosts: join(dir, 'hosts'),
    hostname: join(dir, 'hostname'),
    resolvConf: join(dir, 'resolv.conf'),
  };
}

/** newContainerId is 64 random hex digits, as Docker's. */
export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}
