// `run -d`: the container's init is started by an nbox-monitor (native/monitor.c),
// which is its parent for as long as it runs, records its end and removes a
// `--rm` container; the caller exits as soon as the command runs. The order
// makes every death safe: the monitor says HELLO first, so its identity names
// the cgroup and owns the record before there is anything to orphan, and it
// gets its spec only then (an nbox killed before that leaves it to read EOF).
import { closeSync } from 'node:fs';

import { SysError } from '../errors';
import { addon, type MonitorHello } from '../sys/addon';
import { faultPoint } from './fault';
import { refillSpareMonitor } from './monitor-spawn';
import { pidNamespace } from '../sys/proc';
import { cgroupDirs, createCgroup, removeCgroup } from './cgroup';
import { containerPaths, type ContainerRecord } from './container-record';
import { failedStartState, type ProcessIdentity } from './container-state';
import type { ContainerRegistry } from './container-registry';
import { ContainerStartError, resolveMountTargets, spawnSpec, startFailure, type LaunchSpec } from './launch';
import { probeSpec } from './health-probe';
import { NO_RESTART } from './restart-policy';
import { logRotation, type LogConfig } from './log-config';
import { bridgeSweepCommand, leasesPath, type BridgeNetwork } from './bridge-network';
import { containerBridges } from './user-networks';
import type { Store } from '../image/store';
import type { TerminalSize } from './terminal';
import type { HeldPorts } from './ports';
import { proxySections } from './port-proxy';

/** DetachedContainer is a container started with `detach`: it runs on without the caller. */
export interface DetachedContainer {
  id: string;
  name: string;
  /** The host pid of its init. */
  pid: number;
}

/** MonitoredStart is a container about to start under a monitor. */
export interface MonitoredStart {
  /** The container's ID, which the monitor was spawned for. */
  id: string;
  /** --cgroup-parent, which the container's group is made under. */
  cgroupParent?: string;
  /** Creates the record, owned by the monitor and naming its cgroup. */
  create(running: { owner: ProcessIdentity; cgroup: string[] }): Promise<ContainerRecord>;
  /** The launch spec, once the record's directories exist. */
  spec(record: ContainerRecord): Promise<LaunchSpec>;
  /** monitor-proto.h's attach flags (attach.ts attachFlags): the start socket stays open as an attached client. */
  attach?: number;
  /** The size a terminal (-t) starts at: the attached caller's. */
  ttySize?: TerminalSize;
  /** Its published host ports and the sockets holding them: sent with the spec, which the monitor keeps open
   * until the container ends (its nbox-proxy answering on the IPv6 ones); the caller closes its own. */
  ports?: HeldPorts;
}

/** MonitoredContainer is a started container; with MonitoredStart.attach, attachFd is the start socket, now the
 * caller's attach connection (attach.ts attachStarted). */
export interface MonitoredContainer extends DetachedContainer {
  attachFd?: number;
}

/** abandonMonitor lets a monitor go before it got a spec: it reads EOF and exits. */
export async function abandonMonitor(hello: Promise<MonitorHello>): Promise<void> {
  const ready = await hello.catch(() => null);
  if (ready) closeSync(ready.fd);
}

/** startMonitored runs the start sequence with a monitor that said (or will say) HELLO. */
export async function startMonitored(
  ctx: { store: Store; containers: ContainerRegistry },
  start: MonitoredStart,
  hello: Promise<MonitorHello>,
): Promise<MonitoredContainer> {
  const monitor = await hello.catch((err: Error) => {
    throw new ContainerStartError(`unable to start the container's monitor: ${err.message}`, 125, err);
  });
  faultPoint('hello');
  const owner: ProcessIdentity = { pid: monitor.pid, startTime: monitor.startTime, pidNamespace: pidNamespace() };
  const cgroup = cgroupDirs(start.id, owner, start.cgroupParent);
  let record: ContainerRecord;
  try {
    record = await start.create({ owner, cgroup });
  } catch (err) {
    closeSync(monitor.fd);
    throw err;
  }
  faultPoint('record-created');
  let sent = false;
  let spec: LaunchSpec | undefined;
  try {
    spec = await start.spec(record);
    const mounts = resolveMountTargets(spec.layers, spec.mounts);
    const cgroupJoinFiles = await createCgroup(cgroup, spec.resources, spec.deviceRules ?? null).catch((err: Error) => {
      throw new ContainerStartError(`unable to create the container's cgroup: ${err.message}`, 125, err);
    });
    const { config } = record;
    faultPoint('cgroup-created');
    sent = true;
    // stdio -1: the monitor gives the init its log pipes.
    const starting = addon().startInMonitor(monitor.fd, spawnSpec(spec, mounts, [-1, -1, -1], cgroupJoinFiles), {
      id: config.id,
      name: config.name,
      store: ctx.store.root.dir,
      // No path: the none driver, no log.
      log: config.logConfig?.type === 'none' ? '' : containerPaths(record.dir).log,
      ...rotationSpec(config.logConfig),
      autoRemove: config.autoRemove,
      tty: config.tty ?? false,
      stdin: config.openStdin ?? false,
      cgroupDirs: cgroup,
      restart: config.restartPolicy ?? NO_RESTART,
      health: probeSpec(config.healthcheck),
      attach: start.attach ?? 0,
      ttySize: start.ttySize ?? { rows: 0, cols: 0 },
      ...exitSweep(containerBridges(config, ctx.store.root.dir)),
      portFds: start.ports?.fds ?? [],
      ...proxySections(start.ports, spec.portAddress),
      ...(config.session ? { sessionOwner: [String(config.session.pid), String(config.session.startTime)] as [string, string] } : {}),
    });
    faultPoint('spec-sent');
    const started = await starting;
    faultPoint('started');
    refillSpareMonitor();
    const container = { id: config.id, name: config.name, pid: started.pid };
    return start.attach ? { ...container, attachFd: monitor.fd } : container;
  } catch (err) {
    if (!sent) closeSync(monitor.fd);
    const failure = err instanceof ContainerStartError ? err
      : err instanceof SysError && spec ? startFailure(err, spec.argv[0])
        : new ContainerStartError((err as Error).message, 125, err);
    // The monitor exits after a failed start and writes nothing: the record is ours to finish.
    await removeCgroup(cgroup);
    await ctx.containers.setState(record, failedStartState(record.state, failure.exitCode, failure.message));
    if (record.config.autoRemove) await ctx.containers.remove(record);
    throw failure;
  }
}

// exitSweep is what the monitor runs as it exits, while the container's leases on its bridges are recorded: their sweep.
function exitSweep(bridges: BridgeNetwork[]): { exitCommand: string[]; exitLeases: string[] } {
  return bridges.length > 0 ? { exitCommand: bridgeSweepCommand(bridges), exitLeases: bridges.map(leasesPath) } : { exitCommand: [], exitLeases: [] };
}

// rotationSpec is the monitor's logRotate: max-size and max-file, when the log has a size limit.
function rotationSpec(config: LogConfig | undefined): { logRotate?: [string, string] } {
  const rotation = config && logRotation(config);
  return rotation ? { logRotate: [String(rotation.maxSize), String(rotation.maxFile)] } : {};
}
