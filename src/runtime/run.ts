// `run`: image config + options → container record → spawned init → exit.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { constants as osConstants, cpus as hostCpus } from 'node:os';

import { NboxError, isErrno } from '../errors';
import type { ImageRecord } from '../image/images';
import type { ImageConfigBody } from '../image/oci';
import type { Store } from '../image/store';
import { addon, type BindMount, type ExitStatus } from '../sys/addon';
import { availableCpus, cgroupDirs, isUnifiedHost } from './cgroup';
import { validateResources, type Resources } from './resources';
import { ContainerStartError, launch, type Launched, type LaunchSpec } from './launch';
import { abandonMonitor, startMonitor, startMonitored, type DetachedContainer } from './monitor';
import { processStartTime } from '../sys/proc';
import { containerCommand } from './argv';
import {
  ContainerRegistry, containerPaths, failedStartState, newContainerId, processOwner,
  type ContainerConfig, type ContainerRecord, type ContainerState,
} from './containers';
import { mergeEnv } from './env';
import { attachContainer, networkReady, releaseContainer } from './container-network';
import { containerSpec, imageUser } from './container-spec';
import { createVolumes, launchMounts, planMounts, recordedMounts, volumeBindSpec } from './container-mounts';
import type { MountSpec } from './mount-spec';
import { removeAnonymousVolumes } from './volume-ops';
import { VolumeStore } from './volumes';
import { etcFiles, type EtcFiles } from './etc-files';
import { healthcheckFromOptions, mergeHealthcheck, validateHealthConfig, type HealthcheckOptions } from './health-config';
import { checkDns, isUserNetwork, parseAddHost, runNetwork, sharedNetworkOf } from './network';
import { NetworkStore } from './user-networks';
import { exposedPorts, holdHostPorts, parsePublish, type HeldPorts, type PublishRequest } from './ports';
import { DEFAULT_BRIDGE, publishedOnBridge } from './bridge-network';
import { checkAutoRemove, parseRestartPolicy, validateRestartPolicy, NO_RESTART, type RestartPolicy } from './restart-policy';
import { parseDetachKeys } from './detach-keys';
import { parseSignal } from './stop';
import { randomName } from './names';
import { logConfig } from './log-config';
import { TerminalStdio, type TerminalIo, type TerminalSize } from './terminal';
import type { ResolvedUser } from './user';
import { containerSecurity, deviceRules, securityConfig, seccompProfile, type SecurityOptions } from './security';
import { seccompCacheDir } from './seccomp';
import { watchSession } from './session';

/** StdioOption says where the container's 0, 1 and 2 go: this process's own
 * fds, pipes the caller reads, /dev/null, or explicit host fds. */
export type StdioOption = 'inherit' | 'pipe' | 'ignore' | [number, number, number];

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
  /** --expose `PORT[/tcp|udp]`: more ports for -P beside the image's EXPOSE. */
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

/** INIT_BINARY is Debian's static tini (package tini): the image may have no libc. */
const INIT_BINARY = '/usr/bin/tini-static';
/** INIT_PATH is where Docker mounts its init in the container. */
const INIT_PATH = '/sbin/docker-init';

/** VolumeBind is one `-v`: a host path or a volume name, and where it goes. */
export interface VolumeBind {
  source: string;
  target: string;
  readonly?: boolean;
}

export { ContainerStartError } from './launch';
export type { DetachedContainer } from './monitor';

/** Exit is how a container ended. */
export interface Exit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/** RunningContainer is a started container and its init process. */
export class RunningContainer implements AsyncDisposable {
  /** exited resolves when the init exits (and, with autoRemove, after removal). */
  readonly exited: Promise<Exit>;

  constructor(
    readonly record: ContainerRecord,
    private readonly launched: Launched,
    readonly stdout: Readable | null,
    readonly stderr: Readable | null,
    finish: (status: ExitStatus & { oomKilled: boolean }) => Promise<Exit>,
    private readonly removeRecord: () => Promise<void>,
  ) {
    this.exited = launched.exited.then(finish);
  }

  get pid(): number {
    return this.launched.pid;
  }

  get id(): string {
    return this.record.config.id;
  }

  get name(): string {
    return this.record.config.name;
  }

  /** resize sets the size of the container's terminal (tty); without one it does nothing. */
  resize(size: TerminalSize): void {
    this.launched.terminal?.resize(size);
  }

  /** detached resolves when the terminal's input held the detach keys; it never does otherwise. The
   * container stays attached to this process until then and dies with it (`run -d` has no such tie). */
  get detached(): Promise<void> {
    return this.launched.terminal?.detached ?? new Promise(() => {});
  }

  /** kill sends a signal to the container's init; false once it has exited. */
  kill(signal: NodeJS.Signals | number = 'SIGKILL'): boolean {
    const number = typeof signal === 'number' ? signal : osConstants.signals[signal];
    if (number === undefined) throw new NboxError('ERR_NBOX_USAGE', `invalid signal: ${signal}`);
    return this.launched.kill(number);
  }

  /** Disposal kills the container, waits for it (its PID namespace and mounts go with it) and removes it,
   * so a harness's disposed containers are not left listed as exited. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
    if (!this.record.config.autoRemove) await this.removeRecord();
  }
}

/** RunContext is what `run` needs from the library. */
export interface RunContext {
  store: Store;
  containers: ContainerRegistry;
}

/** runContainer creates a container from an image and starts it. */
export async function runContainer(ctx: RunContext, image: ImageRecord, imageRef: string, opts: RunOptions): Promise<RunningContainer> {
  const detachKeys = parseDetachKeys(opts.detachKeys ?? '');
  const prepared = await prepareRun(ctx, image, imageRef, opts, newContainerId());
  try {
    return await runPrepared(ctx, imageRef, prepared, opts, detachKeys);
  } catch (err) {
    prepared.ports.close();
    throw err;
  }
}

// runPrepared starts a prepared container as this process's child: this process holds its ports until it ends.
async function runPrepared(ctx: RunContext, imageRef: string, prepared: PreparedRun, opts: RunOptions, detachKeys: number[]): Promise<RunningContainer> {
  const { config } = prepared;
  if (config.session) watchSession(ctx.store.root.dir, config.session);
  // Only a monitor restarts a container; a foreground run has none yet (it would need the monitor's attach).
  if (config.restartPolicy && config.restartPolicy.name !== 'no') {
    throw new NboxError('ERR_NBOX_USAGE', `--restart ${config.restartPolicy.name} needs -d: a container run in the foreground is not restarted; run it with -d and follow it with logs -f`);
  }
  // The owner and cgroup are on record before the container runs: should this
  // process die, the next store open ends the container through them.
  const record = await createRecord(ctx, imageRef, prepared, { owner: processOwner(), cgroup: cgroupDirs(config.id, undefined, config.resources?.cgroupParent) });
  const terminal = opts.tty ? new TerminalStdio(terminalIo(opts.stdio ?? 'inherit', detachKeys)) : undefined;
  const stdio = terminal ? fixedStdio([-1, -1, -1]) : openStdio(opts.stdio ?? 'inherit');
  let launched: Launched;
  try {
    const spec = await launchSpec(prepared, record, stdio.childFds);
    launched = await launch(terminal ? { ...spec, terminal: { size: opts.ttySize ?? { rows: 0, cols: 0 }, stdio: terminal } } : spec);
  } catch (err) {
    stdio.closeAll();
    await releaseContainer(record);
    const failure = err instanceof ContainerStartError ? err : new ContainerStartError((err as Error).message, 125, err);
    await ctx.containers.setState(record, failedStartState(record.state, failure.exitCode, failure.message));
    if (config.autoRemove) await ctx.containers.remove(record);
    throw failure;
  }
  const streams = terminal ? { stdout: terminal.stdout, stderr: null } : stdio.started();
  await ctx.containers.setState(record, {
    ...record.state,
    status: 'running',
    pid: launched.pid,
    pidStartTime: processStartTime(launched.pid),
    startedAt: new Date().toISOString(),
  });
  await networkReady(config.id);
  const ended = (status: ExitStatus & { oomKilled: boolean }) => {
    prepared.ports.close();
    return finish(ctx, record, status);
  };
  return new RunningContainer(record, launched, streams.stdout, streams.stderr, ended, () => removeStopped(ctx, record));
}

/** runDetached creates a container and starts it under an nbox-monitor (`run -d`):
 * it resolves once the command runs, and the container outlives this process. */
export async function runDetached(ctx: RunContext, image: ImageRecord, imageRef: string, opts: RunOptions): Promise<DetachedContainer> {
  const id = newContainerId();
  // Spawned first: its start overlaps with reading the image.
  const hello = startMonitor(id);
  let prepared: PreparedRun;
  try {
    prepared = await prepareRun(ctx, image, imageRef, opts, id);
  } catch (err) {
    await abandonMonitor(hello);
    throw err;
  }
  if (prepared.config.session) watchSession(ctx.store.root.dir, prepared.config.session);
  let detached: DetachedContainer;
  try {
    detached = await startMonitored(ctx, {
      id,
      cgroupParent: prepared.config.resources?.cgroupParent,
      create: (running) => createRecord(ctx, imageRef, prepared, running),
      spec: (record) => launchSpec(prepared, record, [-1, -1, -1]),
      portFds: prepared.ports.fds,
    }, hello);
  } finally {
    // The monitor got its own copies with the spec.
    prepared.ports.close();
  }
  await networkReady(id);
  return detached;
}

/** createContainer puts a container on record without starting it (`docker create`): `start` runs it. */
export async function createContainer(ctx: RunContext, image: ImageRecord, imageRef: string, opts: RunOptions): Promise<ContainerRecord> {
  const prepared = await prepareRun(ctx, image, imageRef, opts, newContainerId());
  // As Docker's create, nothing holds them before a start: they were checked free.
  prepared.ports.close();
  if (prepared.config.session) watchSession(ctx.store.root.dir, prepared.config.session);
  return createRecord(ctx, imageRef, prepared, {});
}

/** PreparedRun is a container resolved from its image, not yet on record. */
interface PreparedRun {
  image: ImageRecord;
  layerDirs: string[];
  user: ResolvedUser;
  config: ContainerConfig;
  files: EtcFiles;
  /** No --name: a taken generated name gives way to another. */
  nameGenerated: boolean;
  /** The published host ports, held: the caller closes them (a monitor keeps its own copies). */
  ports: HeldPorts;
}

async function prepareRun(ctx: RunContext, image: ImageRecord, imageRef: string, opts: RunOptions, id: string): Promise<PreparedRun> {
  const layerDirs = await ctx.store.layers.dirs(image.config);
  const userSpec = opts.user ?? image.config.config?.User ?? '';
  const user = await imageUser(layerDirs, userSpec, opts.groupAdd);
  const requests = publishRequests(image, opts);
  const config: ContainerConfig = { ...containerConfig(image, imageRef, opts, userSpec, user, id), ...(await userNetwork(ctx, opts)) };
  config.mounts = await planMounts({
    mounts: [...(opts.volumes ?? []).map(volumeBindSpec), ...(opts.mounts ?? [])],
    volumesFrom: opts.volumesFrom ?? [],
    tmpfsTargets: Object.keys(config.tmpfs ?? {}),
    imageVolumes: Object.keys(image.config.config?.Volumes ?? {}),
  }, (ref) => ctx.containers.resolve(ref));
  const files = await containerFiles(ctx, config);
  // Last, so that nothing here fails with the ports held: whoever runs the container closes them.
  const ports = holdHostPorts(requests, requests.length > 0 ? publishedOnBridge() : []);
  if (ports.bindings.length > 0) config.ports = ports.bindings;
  return { image, layerDirs, user, config, files, nameGenerated: opts.name === undefined, ports };
}

// containerFiles are the container's /etc files; with `--network container:REF`, as Docker, the /etc/hosts and
// /etc/resolv.conf of the container whose network it joins (config.network then names it by ID).
async function containerFiles(ctx: RunContext, config: ContainerConfig): Promise<EtcFiles> {
  const shared = sharedNetworkOf(config.network);
  if (shared === undefined) return etcFiles(config.network, config.hostname, config.extraHosts, { servers: config.dns, search: config.dnsSearch, options: config.dnsOptions });
  const target = await sharedNetworkTarget(ctx, shared);
  config.network = `container:${target.config.id}`;
  const paths = containerPaths(target.dir);
  const [hosts, resolvConf] = await Promise.all([readFile(paths.hosts, 'utf8'), readFile(paths.resolvConf, 'utf8')]);
  return { hosts, resolvConf, hostname: `${config.hostname}\n` };
}

// userNetwork is a user network's endpoint: the network (which must exist) by ID, --network-alias and --ip,
// which Docker takes on user networks only.
async function userNetwork(ctx: RunContext, opts: RunOptions): Promise<Partial<Pick<ContainerConfig, 'network' | 'networks'>>> {
  const mode = runNetwork(opts.network);
  if (!isUserNetwork(mode)) {
    if (opts.networkAliases?.length) throw new NboxError('ERR_NBOX_USAGE', 'network-scoped aliases are only supported for user-defined networks');
    if (opts.ip !== undefined) throw new NboxError('ERR_NBOX_USAGE', 'user specified IP address is supported on user defined networks only');
    return {};
  }
  const network = await new NetworkStore(ctx.store.root).get(mode);
  return { network: network.name, networks: { [network.name]: { id: network.id, ...(opts.networkAliases?.length ? { aliases: opts.networkAliases } : {}), ...(opts.ip ? { ipAddress: opts.ip } : {}) } } };
}

// sharedNetworkTarget is the running container whose network `--network container:REF` joins.
async function sharedNetworkTarget(ctx: RunContext, ref: string): Promise<ContainerRecord> {
  const target = await ctx.containers.resolve(ref);
  if (target.state.status !== 'running') throw new NboxError('ERR_NBOX_USAGE', `cannot join network of a non running container: ${target.config.id}`);
  return target;
}

// sharedNetns is the network namespace of the running container a `container:ID` mode names, by its init's pid.
function sharedNetns(record: ContainerRecord, id: string): string {
  const state = JSON.parse(readFileSync(join(dirname(record.dir), id, 'state.json'), 'utf8')) as ContainerState;
  if (state.status !== 'running' || processStartTime(state.pid) !== state.pidStartTime) {
    throw new NboxError('ERR_NBOX_USAGE', `cannot join network of a non running container: ${id}`);
  }
  return `/proc/${state.pid}/ns/net`;
}

// Under the lock, with the image checked again: from here on the record pins
// the image, and an rmi that got in first makes this a clear "No such image".
// Its volumes are made under the same lock: a `volume rm` sees them in use.
function createRecord(ctx: RunContext, imageRef: string, prepared: PreparedRun, running: Pick<ContainerState, 'owner' | 'cgroup'>): Promise<ContainerRecord> {
  return ctx.store.root.withLock(async () => {
    if (!(await ctx.store.images.has(prepared.image.id))) throw new NboxError('ERR_NBOX_NO_SUCH_IMAGE', `No such image: ${imageRef}`);
    const volumes = new VolumeStore(ctx.store.root);
    const { mounts, created } = await createVolumes(volumes, prepared.config.mounts ?? [], prepared.config);
    try {
      return await ctx.containers.create({ ...prepared.config, mounts }, prepared.files, running, prepared.nameGenerated ? randomName : undefined);
    } catch (err) {
      for (const name of created) await volumes.remove(name);
      throw err;
    }
  });
}

// The record's config: creating it named the anonymous volumes.
async function launchSpec(prepared: PreparedRun, record: ContainerRecord, stdio: [number, number, number]): Promise<LaunchSpec> {
  return containerLaunchSpec(record.config, prepared.layerDirs, prepared.user, record, stdio);
}

/** containerLaunchSpec is the launch spec of a container on record: what `run` and `start` launch. */
export async function containerLaunchSpec(
  config: ContainerConfig, layerDirs: string[], user: ResolvedUser, record: ContainerRecord, stdio: [number, number, number],
): Promise<LaunchSpec> {
  return containerSpec({
    id: config.id,
    layers: layerDirs,
    dirs: containerPaths(record.dir),
    argv: config.init ? [INIT_PATH, '--', ...config.argv] : config.argv,
    env: config.env,
    cwd: config.workingDir,
    user,
    hostname: config.hostname,
    ...(await containerNetwork(config, record)),
    seccomp: config.seccomp,
    security: containerSecurity(config, seccompCacheDir(dirname(dirname(record.dir)))),
    deviceRules: deviceRules(config.security),
    mounts: [
      ...(config.init ? [await initMount()] : []),
      ...(await launchMounts(recordedMounts(config), layerDirs, record.dir, config.tmpfs ?? {})),
    ],
    stdio,
    cgroup: record.state.cgroup,
    ...(config.resources ? { resources: config.resources } : {}),
  });
}

// publishRequests reads -p and -P (a bad one is refused before anything is made); on a network other than the
// bridge they mean nothing (Docker discards them too).
function publishRequests(image: ImageRecord, opts: RunOptions): PublishRequest[] {
  const requests = [...(opts.publish ?? []).map(parsePublish), ...(opts.publishAll ? exposedPorts({ ...image.config.config?.ExposedPorts, ...Object.fromEntries((opts.expose ?? []).map((key) => [key, {}])) }) : [])];
  const mode = runNetwork(opts.network);
  return mode === 'bridge' || isUserNetwork(mode) ? requests : [];
}

// containerNetwork is the launch spec's network: the host's, a namespace of its own (none), the bridge's
// namespace set up now, or another container's.
async function containerNetwork(config: ContainerConfig, record: ContainerRecord): Promise<Pick<LaunchSpec, 'network' | 'netns'>> {
  const shared = sharedNetworkOf(config.network);
  if (shared !== undefined) return { network: 'none', netns: sharedNetns(record, shared) };
  if (config.network === 'bridge' || isUserNetwork(config.network)) return { network: 'bridge', netns: await attachContainer(record) };
  return { network: config.network === 'host' ? 'host' : 'none' };
}

/** containerConfig applies Docker's rules to an image config and run options. */
function containerConfig(image: ImageRecord, imageRef: string, opts: RunOptions, userSpec: string, user: ResolvedUser, id: string): ContainerConfig {
  const body = image.config.config ?? {};
  const service = restartAndHealth(opts, body.Healthcheck);
  const command = containerCommand({
    imageEntrypoint: body.Entrypoint,
    imageCmd: body.Cmd,
    entrypointOverride: opts.entrypoint,
    cmdArgs: opts.cmd ?? [],
  });
  const network = runNetwork(opts.network);
  const security = securityConfig(opts, network);
  // No filter with --privileged or seccomp=unconfined (or the library's seccomp: false).
  const seccomp = opts.seccomp !== false && seccompProfile(security) !== 'unconfined';
  const hostname = opts.hostname ?? (network === 'host' ? readFileSync('/proc/sys/kernel/hostname', 'utf8').trim() : id.slice(0, 12));
  const env = mergeEnv({
    imageEnv: body.Env,
    hostname,
    user,
    cliEnv: opts.env ?? [],
    envFiles: (opts.envFiles ?? []).map((path) => ({ path, text: readEnvFile(path) })),
    hostEnv: process.env,
    tty: opts.tty,
  });
  const resources = opts.resources && validateResources(opts.resources, { cpus: hostCpus().length, availableCpus: availableCpus(), unified: isUnifiedHost() });
  const workingDir = opts.workdir || body.WorkingDir || '/';
  if (!workingDir.startsWith('/')) {
    throw new NboxError('ERR_NBOX_USAGE', `the working directory '${workingDir}' is invalid, it needs to be an absolute path`);
  }
  return {
    id,
    name: opts.name ?? randomName(),
    created: new Date().toISOString(),
    image: image.id,
    imageRef,
    ...command,
    env,
    user: userSpec,
    workingDir,
    hostname,
    network,
    ...(opts.addHosts?.length ? { extraHosts: opts.addHosts.map((entry) => parseAddHost(entry, DEFAULT_BRIDGE.gateway)) } : {}),
    ...(opts.dns?.length ? { dns: checkDns(opts.dns) } : {}),
    ...(opts.dnsSearch?.length ? { dnsSearch: opts.dnsSearch } : {}),
    ...(opts.dnsOptions?.length ? { dnsOptions: opts.dnsOptions } : {}),
    ...(opts.tty ? { tty: true } : {}),
    ...(opts.interactive ? { openStdin: true } : {}),
    autoRemove: opts.autoRemove ?? false,
    labels: opts.labels ?? {},
    ...(seccomp ? {} : { seccomp: false }),
    security,
    tmpfs: opts.tmpfs ?? {},
    ...(opts.init ? { init: true } : {}),
    ...(resources ? { resources } : {}),
    ...stopOptions(opts),
    logConfig: logConfig(opts.logDriver, opts.logOpts),
    ...service,
    ...(opts.session ? { session: processOwner() } : {}),
  };
}

// initMount binds the host's tini read-only over /sbin/docker-init. Its target
// goes where every mount target goes: resolved inside the image's root, so an
// image's /sbin symlink cannot point the mount at a host path.
async function initMount(): Promise<BindMount> {
  if (!(await stat(INIT_BINARY).catch(() => null))?.isFile()) {
    throw new NboxError('ERR_NBOX_USAGE', `--init: ${INIT_BINARY} not found (install Debian's tini package)`);
  }
  return { source: INIT_BINARY, target: INIT_PATH, readonly: true, isFile: true };
}

// stopOptions checks --stop-signal as Docker's daemon does (its message) and --stop-timeout; an empty signal is none.
function stopOptions(opts: RunOptions): Pick<ContainerConfig, 'stopSignal' | 'stopTimeout'> {
  if (opts.stopSignal) parseSignal(opts.stopSignal);
  if (opts.stopTimeout !== undefined && !Number.isSafeInteger(opts.stopTimeout)) {
    throw new NboxError('ERR_NBOX_USAGE', `invalid stop timeout: ${opts.stopTimeout}`);
  }
  return {
    ...(opts.stopSignal ? { stopSignal: opts.stopSignal } : {}),
    ...(opts.stopTimeout !== undefined ? { stopTimeout: opts.stopTimeout } : {}),
  };
}

// restartAndHealth reads --restart, then --health-* (the docker CLI's checks), --rm against the
// policy, then the daemon's bounds on the health durations: the first bad value is the one reported.
function restartAndHealth(opts: RunOptions, imageHealthcheck: ImageConfigBody['Healthcheck']): Pick<ContainerConfig, 'restartPolicy' | 'healthcheck'> {
  const restartPolicy = typeof opts.restart === 'string' ? parseRestartPolicy(opts.restart) : validateRestartPolicy(opts.restart ?? NO_RESTART);
  const own = healthcheckFromOptions(opts.healthcheck);
  checkAutoRemove(restartPolicy, opts.autoRemove ?? false);
  validateHealthConfig(own);
  const healthcheck = mergeHealthcheck(own, imageHealthcheck);
  return healthcheck ? { restartPolicy, healthcheck } : { restartPolicy };
}

async function finish(ctx: RunContext, record: ContainerRecord, status: ExitStatus & { oomKilled: boolean }): Promise<Exit> {
  const signal = status.signal === null ? null : signalName(status.signal);
  const exitCode = status.exitCode ?? 128 + (status.signal ?? 0);
  await releaseContainer(record);
  if (record.config.autoRemove) {
    await ctx.containers.remove(record);
    await removeAnonymousVolumes(ctx, record);
  } else {
    try {
      await ctx.containers.setState(record, {
        ...record.state, status: 'exited', exitCode, finishedAt: new Date().toISOString(), oomKilled: status.oomKilled,
      });
    } catch (err) {
      // `rm -f` from another process removes the record as soon as the process is gone.
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }
  return { exitCode: status.exitCode, signal };
}

// removeStopped removes a container that has ended, and its anonymous volumes; one already gone is fine.
async function removeStopped(ctx: RunContext, record: ContainerRecord): Promise<void> {
  if (!(await ctx.containers.readRecorded(record.config.id))) return;
  await ctx.containers.remove(record);
  await removeAnonymousVolumes(ctx, record);
}

function signalName(signal: number): NodeJS.Signals | null {
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === signal);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}

/** readEnvFile reads an --env-file; a missing one is Docker's one line. */
export function readEnvFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new NboxError('ERR_NBOX_USAGE', `open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}

/** OpenedStdio is a StdioOption opened: the child's fds and the caller's streams. */
export interface OpenedStdio {
  childFds: [number, number, number];
  /** Closes the fds only the child needed, and wraps the caller's ends in streams. */
  started(): { stdout: Readable | null; stderr: Readable | null; stdin: Writable | null };
  closeAll(): void;
}

/** openStdio opens what a StdioOption names; with `stdin`, 'pipe' also gives the child's input as a stream to write. */
export function openStdio(option: StdioOption, options: { stdin?: boolean } = {}): OpenedStdio {
  if (Array.isArray(option)) return fixedStdio(option);
  if (option === 'inherit') return fixedStdio([0, 1, 2]);
  const devNull = openSync('/dev/null', 'r+');
  if (option === 'ignore') {
    const close = () => closeSync(devNull);
    return {
      childFds: [devNull, devNull, devNull],
      started: () => (close(), { stdout: null, stderr: null, stdin: null }),
      closeAll: close,
    };
  }
  const [outRead, outWrite] = addon().pipe();
  const [errRead, errWrite] = addon().pipe();
  const [inRead, inWrite] = options.stdin ? addon().pipe() : [devNull, -1];
  const childEnds = [...new Set([devNull, inRead, outWrite, errWrite])];
  return {
    childFds: [inRead, outWrite, errWrite],
    started: () => {
      childEnds.forEach((fd) => closeSync(fd));
      // Loaded on use: the CLI passes its own fds and never needs sockets.
      const { Socket } = require('node:net') as typeof import('node:net');
      return {
        stdout: new Socket({ fd: outRead, readable: true, writable: false }),
        stderr: new Socket({ fd: errRead, readable: true, writable: false }),
        stdin: inWrite < 0 ? null : new Socket({ fd: inWrite, readable: false, writable: true }),
      };
    },
    closeAll: () => [...childEnds, outRead, errRead, inWrite].filter((fd) => fd >= 0).forEach((fd) => closeSync(fd)),
  };
}

/** terminalIo is what a StdioOption means for a container with a terminal: one output stream, and input
 * from the caller's stdin fd when it gives one. */
export function terminalIo(option: StdioOption, detachKeys: number[]): TerminalIo {
  if (option === 'inherit') return { input: 0, output: 1, detachKeys };
  if (option === 'pipe') return { input: null, output: 'pipe', detachKeys };
  if (option === 'ignore') return { input: null, output: null, detachKeys };
  return { input: option[0], output: option[1], detachKeys };
}

function fixedStdio(fds: [number, number, number]): OpenedStdio {
  return { childFds: fds, started: () => ({ stdout: null, stderr: null, stdin: null }), closeAll: () => {} };
}
