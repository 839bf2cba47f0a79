// What `run` is given: the library's store and records, and `docker run`'s flags as data.
import type { Store } from '../image/store';
import type { ContainerRegistry } from './container-registry';
import type { HealthcheckOptions } from './health-config';
import type { MountSpec } from './mount-spec';
import type { Resources } from './resources';
import type { RestartPolicy } from './restart-policy';
import type { SecurityOptions } from './security';
import type { StdioOption } from './stdio-option';
import type { TerminalSize } from './terminal';

/** RunContext is what `run` needs from the library. */
export interface RunContext {
  store: Store;
  containers: ContainerRegistry;
}

/** RunOptions are `docker run`'s flags, as data. */
export interface RunOptions extends SecurityOptions {
  /** Arguments after the image: replace CMD. */
  cmd?: string[];
  /** --entrypoint; '' clears the image's. An array is an entrypoint with arguments, as the Engine API takes it. */
  entrypoint?: string | string[];
  /** -e values: NAME=value, or NAME to copy from this process's env. */
  env?: string[];
  /** --env-file paths. */
  envFiles?: string[];
  user?: string;
  workdir?: string;
  hostname?: string;
  name?: string;
  /** --network: bridge (the default; `default` names it too), none, host, container:NAME or a user network's name. */
  network?: string;
  /** --network-alias: more names the container answers to on its user network. */
  networkAliases?: string[];
  /** --ip: its address on its user network. */
  ip?: string;
  /** --add-host NAME:IP entries for /etc/hosts. */
  addHosts?: string[];
  /** --dns servers and --dns-search domains for /etc/resolv.conf. */
  dns?: string[];
  dnsSearch?: string[];
  /** --dns-option: resolver options (`ndots:2`, `edns0`) for /etc/resolv.conf's options line. */
  dnsOptions?: string[];
  /** -p `[HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]`: published on the bridge network. */
  publish?: string[];
  /** -P: every port the image EXPOSEs, each on a free host port. */
  publishAll?: boolean;
  /** --expose `PORT[-END][/tcp|udp]`: more ports for -P beside the image's EXPOSE. */
  expose?: string[];
  /** --rm: remove the container when it exits. */
  autoRemove?: boolean;
  labels?: Record<string, string>;
  stdio?: StdioOption;
  /** false runs without the default syscall filter (`--security-opt seccomp=unconfined`). */
  seccomp?: boolean;
  /** -v SOURCE:CONTAINER[:ro]: a host path (absolute) bind-mounted, or a volume by name (made if missing; '' an anonymous one). */
  volumes?: VolumeBind[];
  /** -v and --mount as their parsers read them (parseVolumeFlag, parseMountFlag), after `volumes`. */
  mounts?: MountSpec[];
  /** --volumes-from CONTAINER[:ro|:rw]: every mount of those containers. */
  volumesFrom?: string[];
  /** --tmpfs CONTAINER[:options]: fresh tmpfs mounts. */
  tmpfs?: Record<string, string>;
  /** --init: Docker's docker-init (tini) runs as PID 1 and runs the command: it reaps zombies and forwards signals. */
  init?: boolean;
  /** -d: run under an nbox-monitor, which outlives this process and keeps the
   * container's output as a json-file log; `run` then resolves to a DetachedContainer. */
  detach?: boolean;
  /** --restart `name[:count]`, or the policy as data; recorded for the monitor. */
  restart?: string | RestartPolicy;
  /** --health-* and --no-healthcheck, merged with the image's HEALTHCHECK. */
  healthcheck?: HealthcheckOptions;
  /** --stop-signal: what stop and restart send (a name such as `USR1`, `SIGUSR1`, or a number) when not told; the image's STOPSIGNAL, else TERM, by default. */
  stopSignal?: string;
  /** --log-driver: json-file (the default: the monitor's log, which `logs` reads) or none (no log). */
  logDriver?: string;
  /** --log-opt KEY=VALUE. */
  logOpts?: Record<string, string>;
  /** --stop-timeout: the seconds stop and restart wait before the kill when not told (10 by default). */
  stopTimeout?: number;
  /** -t: the container's 0, 1 and 2 are a terminal (a pty of its own devpts), and TERM=xterm unless set.
   * stdio then says where its one output stream goes and what feeds its input: 'inherit' is this process's
   * 0 and 1, [in, out, err] those fds (err unused), 'pipe' the `stdout` stream (no input), 'ignore' nothing.
   * An input that is a terminal is put in raw mode while the container runs. */
  tty?: boolean;
  /** The terminal's size from the start (default 0 by 0: unknown); resize() changes it. */
  ttySize?: TerminalSize;
  /** -i with detach (or create): the monitor keeps the container's stdin open, and `attach` feeds it. */
  interactive?: boolean;
  /** --detach-keys: the sequence on a terminal's input that detaches (Docker's format; default ctrl-p,ctrl-q). */
  detachKeys?: string;
  /** -m, --cpus, --pids-limit, --ulimit…: checked as Docker's daemon checks them. */
  resources?: Resources;
  /** Ties the container to this process, as a test harness wants it: when the process ends, however it ends
   * (SIGKILL included), the container is killed and removed with its mounts, cgroup, address and anonymous
   * volumes, foreground or detached, running or not (session.ts). Off by default, as the CLI's and the Engine
   * API's containers outlive their caller as Docker's do; the library's harness form of run() turns it on. */
  session?: boolean;
}

/** VolumeBind is one `-v`: a host path or a volume name, and where it goes. */
export interface VolumeBind {
  source: string;
  target: string;
  readonly?: boolean;
}
