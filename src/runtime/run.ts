// `run`, `run -d` and `create`: a prepared container put on record (under the
// store lock) and started, and a foreground run's exit recorded.
import { constants as osConstants } from 'node:os';

import { NboxError, isErrno } from '../errors';
import type { ImageRecord } from '../image/images';
import type { ExitStatus } from '../sys/addon';
import { processStartTime } from '../sys/proc';
import { cgroupDirs } from './cgroup';
import { ContainerStartError, launch, type Launched, type LaunchSpec } from './launch';
import { abandonMonitor, startMonitored, type DetachedContainer } from './monitor';
import { startMonitor } from './monitor-spawn';
import { newContainerId, type ContainerRecord } from './container-record';
import { failedStartState, processOwner, type ContainerState } from './container-state';
import { containerLaunchSpec } from './container-launch-spec';
import { networkReady, releaseContainer } from './container-network';
import { createVolumes } from './container-mounts';
import { removeAnonymousVolumes } from './volume-ops';
import { VolumeStore } from './volumes';
import { parseDetachKeys } from './detach-keys';
import { randomName } from './names';
import { TerminalStdio } from './terminal';
import { watchSession } from './session';
import { prepareRun, type PreparedRun } from './run-config';
import { startPortProxy, type PortProxy } from './port-proxy';
import type { RunContext, RunOptions } from './run-options';
import { RunningContainer, type Exit } from './running-container';
import { fixedStdio, openStdio, terminalIo } from './stdio-option';
import { isoTime } from '../iso-time';

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
  let proxy: PortProxy | undefined;
  try {
    const spec = await launchSpec(prepared, record, stdio.childFds);
    proxy = startPortProxy(prepared.ports, spec.portAddress);
    launched = await launch(terminal ? { ...spec, terminal: { size: opts.ttySize ?? { rows: 0, cols: 0 }, stdio: terminal } } : spec);
  } catch (err) {
    await proxy?.stop();
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
    startedAt: isoTime(),
  });
  await networkReady(config.id);
  const ended = async (status: ExitStatus & { oomKilled: boolean }) => {
    await proxy?.stop();
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
  const hello = startMonitor(id, opts.network === 'none');
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
      ports: prepared.ports,
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
        ...record.state, status: 'exited', exitCode, finishedAt: isoTime(), oomKilled: status.oomKilled,
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
