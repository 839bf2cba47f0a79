// `start` and `restart`: a stopped container runs again under a new monitor,
// with its writable layer and log kept, as Docker's. Each holds the
// container's lock from reading its state until the monitor runs it, so two
// starts make one monitor and the store open's sweep leaves the record alone.
import { NboxError } from '../errors';
import { faultPoint } from './fault';
import { attachFlags, attachStarted, type AttachSession, type AttachStreams } from './attach';
import { imageUser } from './container-spec';
import { killCgroup, removeCgroup } from './cgroup';
import type { ContainerRecord } from './container-record';
import type { ContainerState } from './container-state';
import { abandonMonitor, startMonitored, type DetachedContainer, type MonitoredContainer } from './monitor';
import { startMonitor } from './monitor-spawn';
import { holdHostPorts, type HeldPorts } from './ports';
import { DEFAULT_BRIDGE, publishedOnBridge } from './bridge-network';
import { containerLaunchSpec } from './container-launch-spec';
import type { RunContext } from './run-options';
import { networkReady } from './container-network';
import { stopContainer, waitContainer } from './stop';
import { clearStopped } from './stop-marker';
import { ensureUpperDir, snapshotDirs } from './snapshot-layers';
import type { ImageConfig } from '../image/oci';

/** StartedContainer is a container startContainer ran; session is its attach connection when streams were given. */
export interface StartedContainer extends DetachedContainer {
  session?: AttachSession;
}

/** startContainer runs a stopped container again; a running one is left as it is (null). With streams
 * (`start -a`), the monitor attaches them before the init runs, so no output is missed. */
export async function startContainer(ctx: RunContext, ref: string, streams?: AttachStreams): Promise<StartedContainer | null> {
  const found = await ctx.containers.resolve(ref);
  const release = await ctx.containers.lock(found);
  try {
    faultPoint('start-locked');
    // Read again under the lock: another start, or an rm, may have come first.
    const record = await ctx.containers.resolve(found.config.id).catch(() => null);
    if (!record) throw new NboxError('ERR_NBOX_NO_SUCH_CONTAINER', `No such container: ${ref}`);
    if (!startable(record.state)) return null;
    // What a dead owner left (a process that cleared its parent-death signal) ends before the layer is reused.
    if (record.state.cgroup) {
      await killCgroup(record.state.cgroup);
      await removeCgroup(record.state.cgroup);
    }
    const { config } = record;
    const imageConfig = await ctx.store.images.config(config.image);
    if (!imageConfig) throw new NboxError('ERR_NBOX_NO_SUCH_IMAGE', `No such image: ${config.imageRef}`);
    // Held from before anything changes: a port taken since the create is refused as run refuses it.
    const ports = holdHostPorts(config.ports ?? [], config.ports?.length ? publishedOnBridge(DEFAULT_BRIDGE, config.id) : []);
    let started: MonitoredContainer;
    try {
      started = await startHeld(ctx, record, imageConfig, ports, streams);
    } finally {
      // The monitor got its own copies with the spec.
      ports.close();
    }
    const { attachFd, ...container } = started;
    await networkReady(config.id);
    return streams && attachFd !== undefined ? { ...container, session: attachStarted(attachFd, streams) } : container;
  } finally {
    await release();
  }
}

// startHeld runs a startable container under a new monitor, which gets the held ports.
async function startHeld(ctx: RunContext, record: ContainerRecord, imageConfig: ImageConfig, ports: HeldPorts, streams?: AttachStreams): Promise<MonitoredContainer> {
  const { config } = record;
  const hello = startMonitor(config.id, config.network === 'none');
  let layerDirs: string[];
  let user;
  try {
    // The container's snapshots are lowers above its image's (container-snapshot.ts).
    layerDirs = [...snapshotDirs(record.dir), ...(await ctx.store.layers.dirs(imageConfig))];
    ensureUpperDir(record.dir);
    user = await imageUser(layerDirs, config.user, config.security?.groupAdd);
  } catch (err) {
    await abandonMonitor(hello);
    throw err;
  }
  const resolvedUser = user;
  // A new run: the last stop or kill no longer speaks for it.
  clearStopped(record);
  return startMonitored(ctx, {
    id: config.id,
    cgroupParent: config.resources?.cgroupParent,
    attach: streams ? attachFlags(streams) : 0,
    ttySize: streams?.size,
    create: async (running) => {
      // As Docker: a new run's state, with the last run's times until this one's are known.
      const { paused: _paused, ...last } = record.state;
      await ctx.containers.setState(record, { ...last, status: 'created', pid: 0, pidStartTime: 0, exitCode: 0, error: '', ...running });
      return record;
    },
    spec: (current) => containerLaunchSpec(config, layerDirs, resolvedUser, current, [-1, -1, -1]),
    ports,
  }, hello);
}

/** restartContainer stops a container (as `stop` does, timeoutSeconds then a kill), waits until its
 * end is on record, and starts it again (`docker restart`). */
export async function restartContainer(ctx: RunContext, ref: string, signal: number, timeoutSeconds: number): Promise<void> {
  const record = await ctx.containers.resolve(ref);
  await stopContainer(record, signal, timeoutSeconds);
  if (record.state.status !== 'exited') await waitContainer(ctx.containers, record, ref);
  await startContainer(ctx, record.config.id);
}

// startable: ended, or made and never started; not running, nor being started by a live owner.
function startable(state: ContainerState): boolean {
  return state.status === 'exited' || (state.status === 'created' && state.owner === undefined);
}
