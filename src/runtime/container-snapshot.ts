// Snapshots of a container's writable layer, so a test suite resets a database
// container between tests without a copy: `snapshot` stops the container (its
// stop signal, so the database flushes), renames its upper dir to
// snapshots/<n> in its directory, where it becomes a read-only overlay lower
// above the image's, and runs it again on a fresh upper; `restore` kills the
// container (its state is discarded anyway), swaps its upper for an empty one
// and runs it again on the same layers. Neither copies: a snapshot costs one
// rename, a restore what changed since the snapshot.
//
// A container under a monitor (`-d`) keeps it: the monitor makes the change
// between two lives of the init (native/monitor.c layer_change), so the
// container keeps its cgroup, network namespace, address and ports, and a
// restore costs a kill and a spawn. A stopped container changes here, under
// its lock; one run in the foreground by some nbox is stopped and started again
// under a monitor, as `restart` does.
//
// The snapshot directories are their own record: one rename moves the layer
// and records it, so a kill at any moment leaves no layer the record does not
// name (snapshot-layers.ts).
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { NboxError } from '../errors';
import { pidNamespace, processStartTime } from '../sys/proc';
import { killCgroup } from './cgroup';
import { containerPaths, type ContainerRecord } from './container-record';
import type { ContainerState } from './container-state';
import { signalInit } from './kill';
import type { RunContext } from './run-options';
import { startContainer } from './start';
import { isRunning, stopContainer, waitContainer } from './stop';
import { markStopped } from './stop-marker';
import { freshUpperDir, snapshotDir, snapshotDirs, snapshotIds, type SnapshotInfo } from './snapshot-layers';
import { isoTime } from '../iso-time';

export type { SnapshotInfo } from './snapshot-layers';

// The monitor's op file (native/monitor.c LAYER_OP_FILE).
const LAYER_OP_FILE = 'snapshot-op';
const POLL_MS = 2;

/** snapshotContainer turns the container's writable layer into a snapshot (stopping a running container
 * with signal, killing it after timeoutSeconds, and running it again) and describes it. */
export async function snapshotContainer(ctx: RunContext, ref: string, signal: number, timeoutSeconds: number): Promise<SnapshotInfo> {
  const record = await ctx.containers.resolve(ref);
  const id = (snapshotIds(record.dir)[0] ?? 0) + 1;
  const info = () => ({ id, created: isoTime(statSync(join(record.dir, 'snapshots', String(id))).ctime) });
  const monitored = await inMonitor(ctx, record, ref, `snapshot ${id}\n`, async () => {
    signalInit(record.state, signal);
    const deadline = Date.now() + Math.max(0, timeoutSeconds) * 1000;
    while (Date.now() < deadline && processStartTime(record.state.pid) === record.state.pidStartTime) await sleep(POLL_MS * 5);
    killInit(record.state);
  });
  if (monitored) return info();
  const wasUp = isUp(record.state);
  await stopContainer(record, signal, timeoutSeconds);
  if (wasUp) await waitContainer(ctx.containers, record, ref);
  await whileStopped(ctx, record, ref, (current) => {
    const dir = snapshotDir(current.dir, id);
    renameSync(containerPaths(current.dir).upper, dir);
    freshUpperDir(current.dir, dir);
  });
  if (wasUp) await startContainer(ctx, record.config.id);
  return info();
}

/** restoreContainer brings the container's file system back to snapshot `to` (the newest when absent; 0 is its
 * image's), dropping later snapshots: a running container is killed and runs again on the same layers. */
export async function restoreContainer(ctx: RunContext, ref: string, to?: number): Promise<void> {
  const record = await ctx.containers.resolve(ref);
  const ids = snapshotIds(record.dir);
  const target = to ?? ids[0] ?? 0;
  if (!Number.isSafeInteger(target) || (target !== 0 && !ids.includes(target))) {
    throw new NboxError('ERR_NBOX_USAGE', `No such snapshot: ${String(to)} of container ${ref}`);
  }
  const dropped = () => snapshotDirs(record.dir, (id) => id > target);
  // The discarded upper goes to the store's tmp/ under a name of this process, which the store's sweep
  // removes should this process die before it does.
  const trash = ctx.store.root.tempPath('restore');
  const monitored = await inMonitor(ctx, record, ref, `restore ${basename(trash)} ${dropped().length}\n`, () => killInit(record.state));
  if (monitored) {
    await discard([trash, ...dropped()], ctx);
    return;
  }
  const wasUp = isUp(record.state);
  if (wasUp) await killForRestore(ctx, record, ref);
  const doomed = await whileStopped(ctx, record, ref, (current) => {
    const gone = [containerPaths(current.dir).upper, ...dropped()].map((dir) => {
      const temp = ctx.store.root.tempPath('restore');
      renameSync(dir, temp);
      return temp;
    });
    freshUpperDir(current.dir, snapshotDirs(current.dir)[0]);
    return gone;
  });
  await Promise.all([discard(doomed, ctx), wasUp ? startContainer(ctx, record.config.id) : undefined]);
}

// discard removes layers a restore let go: renamed into tmp/ first (O(1) each), then deleted.
async function discard(dirs: string[], ctx: RunContext): Promise<void> {
  const trash = dirs.map((dir) => {
    if (dir.startsWith(join(ctx.store.root.dir, 'tmp') + '/')) return dir;
    const temp = ctx.store.root.tempPath('restore');
    renameSync(dir, temp);
    return temp;
  });
  await Promise.all(trash.map((dir) => rm(dir, { recursive: true, force: true })));
}

// inMonitor has a running container's monitor make a layer change (op) between two lives of its init, which
// end ends, and waits until the init runs again; false, with nothing changed, when the container does not run
// under a live monitor (or stopped meanwhile), for the caller to do it the slow way. Under the container's
// lock: a start or rm from elsewhere waits.
async function inMonitor(ctx: RunContext, found: ContainerRecord, ref: string, op: string, end: () => void | Promise<void>): Promise<boolean> {
  if (!underMonitor(found.state)) return false;
  const release = await ctx.containers.lock(found);
  const opFile = join(found.dir, LAYER_OP_FILE);
  try {
    const record = await ctx.containers.resolve(found.config.id);
    if (!underMonitor(record.state) || !record.state.cgroup) return false;
    const { pid, pidStartTime } = record.state;
    found.state = record.state;
    writeFileSync(opFile, op, { mode: 0o600 });
    await end();
    for (;;) {
      const current = await ctx.containers.readRecorded(record.config.id);
      if (!current) throw new NboxError('ERR_NBOX_NO_SUCH_CONTAINER', `No such container: ${ref}`);
      const { state } = current;
      if (state.status === 'running' && state.pid !== 0 && (state.pid !== pid || state.pidStartTime !== pidStartTime)) return true;
      if (ended(state)) {
        // The monitor finished without the op (the container ended first, or its monitor was told to end).
        if (existsSync(opFile)) {
          rmSync(opFile, { force: true });
          return false;
        }
        throw new NboxError('ERR_NBOX_SYS', `${ref}: ${state.error || 'the container stopped during the change'}`);
      }
      await sleep(POLL_MS);
    }
  } finally {
    rmSync(opFile, { force: true });
    await release();
  }
}

// underMonitor: running, owned by a live nbox-monitor (a foreground run's owner is an nbox, which cannot run
// it again), in this PID namespace.
function underMonitor(state: ContainerState): boolean {
  const { owner } = state;
  if (state.status !== 'running' || !owner || (owner.pidNamespace !== undefined && owner.pidNamespace !== pidNamespace())) return false;
  try {
    return readFileSync(`/proc/${owner.pid}/comm`, 'utf8').trim() === 'nbox-monitor' && processStartTime(owner.pid) === owner.startTime;
  } catch {
    return false;
  }
}

// killInit kills the init, PID 1 of the container's PID namespace, which takes every other process of it
// along (exec'd ones included); never the cgroup, which the monitor's next init may be in already.
function killInit(state: ContainerState): void {
  signalInit(state, 9);
}

function isUp(state: ContainerState): boolean {
  return state.status === 'running' || state.status === 'restarting';
}

// killForRestore kills a running container through its cgroup, as `kill` would (its restart policy
// cancelled), and waits until its owner has recorded the end: a start before that would find it running.
async function killForRestore(ctx: RunContext, record: ContainerRecord, ref: string): Promise<void> {
  markStopped(record, { cancel: true });
  if (record.state.cgroup) await killCgroup(record.state.cgroup);
  else if (isRunning(record)) signalInit(record.state, 9);
  for (;;) {
    const current = await ctx.containers.readRecorded(record.config.id);
    if (!current) throw new NboxError('ERR_NBOX_NO_SUCH_CONTAINER', `No such container: ${ref}`);
    if (ended(current.state)) return;
    await sleep(POLL_MS);
  }
}

// ended: on record as stopped, or its owner died with it (the sweep records that).
function ended(state: ContainerState): boolean {
  if (state.status === 'exited' || (state.status === 'created' && state.owner === undefined)) return true;
  const { owner } = state;
  return owner !== undefined && (owner.pidNamespace === undefined || owner.pidNamespace === pidNamespace()) &&
    processStartTime(owner.pid) !== owner.startTime && processStartTime(state.pid) !== state.pidStartTime;
}

// whileStopped runs change on the container's layers under its lock, once it is not running: a start
// from elsewhere waits for the lock, and one that came first makes this a conflict.
async function whileStopped<T>(ctx: RunContext, found: ContainerRecord, ref: string, change: (record: ContainerRecord) => T): Promise<T> {
  const release = await ctx.containers.lock(found);
  try {
    const record = await ctx.containers.resolve(found.config.id).catch(() => {
      throw new NboxError('ERR_NBOX_NO_SUCH_CONTAINER', `No such container: ${ref}`);
    });
    if (!ended(record.state)) throw new NboxError('ERR_NBOX_CONFLICT', `container ${record.config.id} was started again meanwhile`);
    return change(record);
  } finally {
    await release();
  }
}
