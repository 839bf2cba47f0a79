// Session containers (RunOptions.session): containers tied to the process that
// made them, as a test harness wants them. When that process dies, however it
// dies (SIGKILL gives no handler a chance), they are killed and removed with
// their cgroups, leases and records, and their anonymous volumes.
//
// Two parts make that hold. Each session container's config names its owner
// (a pid, its start time and PID namespace), so any store open can tell a
// session whose owner is gone, and sweepSessions removes it. And before the
// first one exists, the owner starts an nbox-reaper (native/reaper.c), which
// holds a pidfd of the owner and runs that sweep (session-sweep.ts) the moment
// the owner dies: no daemon, no sidecar container, and no wait for the next
// nbox command. A detached one's monitor watches the owner too (monitor.c,
// sessionOwner) and kills the container itself, should the reaper be gone.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { NboxError } from '../errors';
import { pidNamespace, processStartTime } from '../sys/proc';
import { startProgram } from '../sys/program';
import type { Store } from '../image/store';
import { removeCgroup } from './cgroup';
import type { ContainerConfig, ContainerRecord } from './container-record';
import type { ContainerRegistry } from './container-registry';
import type { ProcessIdentity } from './container-state';
import { killAndWait } from './kill';
import { monitorGone } from './stop';
import { markStopped } from './stop-marker';
import { removeAnonymousVolumes } from './volume-ops';

/** SessionContext is what the session sweep needs of the library. */
export interface SessionContext {
  store: Store;
  containers: ContainerRegistry;
}

// The stores this process has a reaper for: one each, for the process's life.
const reaped = new Set<string>();

/** watchSession makes sure an nbox-reaper ends this process's session containers in storeRoot when the
 * process dies. Call it before such a container is on record: the reaper runs by the time it returns. */
export function watchSession(storeRoot: string, owner: ProcessIdentity): void {
  if (reaped.has(storeRoot)) return;
  // Built beside the addon; from the CLI bundle (dist/src/cli) and the compiled tree (dist/src/runtime) alike.
  const reaper = join(__dirname, '..', '..', '..', 'build', 'Release', 'nbox-reaper');
  const sweep = join(__dirname, '..', 'runtime', 'session-sweep.js');
  // posix_spawn: a test runner's process of hundreds of MB is not forked for it (20 ms at 480 MB here). With this
  // process's environment: the sweep's settings (NBOX_BRIDGE, …) are its.
  try {
    startProgram(reaper, [String(owner.pid), String(owner.startTime), process.execPath, sweep, storeRoot], { outlives: true, env: process.env });
  } catch (err) {
    throw new NboxError('ERR_NBOX_SYS', `unable to start the session's reaper (${reaper}): a session container would outlive this process`, { cause: err });
  }
  reaped.add(storeRoot);
}

/** sweepSessions kills and removes every container whose session owner has died, as `rm -f -v` would. */
export async function sweepSessions(ctx: SessionContext): Promise<void> {
  const dir = ctx.store.root.containersDir;
  // Every store open comes here: one small read per container, and most have no session. Synchronous, as
  // those reads: the first promisified readdir of a process costs a millisecond.
  for (const id of readdirSync(dir)) {
    if (!ownerGone(recordedSession(join(dir, id, 'config.json')))) continue;
    const found = await ctx.containers.resolve(id).catch(() => null);
    const release = found && await ctx.containers.lock(found).catch(() => undefined);
    if (!release) continue;
    try {
      // Read again under the lock: an rm may have come first.
      const record = await ctx.containers.resolve(id).catch(() => null);
      if (record) await endSessionContainer(ctx, record);
    } catch {
      // Best effort, as the store's other sweeps: what stays is tried again by the next open.
    } finally {
      await release();
    }
  }
}

// recordedSession is the session owner a container's config names, if any.
function recordedSession(configPath: string): ProcessIdentity | undefined {
  try {
    return (JSON.parse(readFileSync(configPath, 'utf8')) as ContainerConfig).session;
  } catch {
    return undefined;
  }
}

// ownerGone: the session's owner has died. One in another PID namespace cannot be checked from here: its own nbox judges it.
function ownerGone(owner: ProcessIdentity | undefined): boolean {
  if (!owner) return false;
  if (owner.pidNamespace !== undefined && owner.pidNamespace !== pidNamespace()) return false;
  return processStartTime(owner.pid) !== owner.startTime;
}

async function endSessionContainer(ctx: SessionContext, record: ContainerRecord): Promise<void> {
  const { state } = record;
  // The marker first: no restart policy runs it again while it goes.
  if (state.status === 'running' || state.status === 'restarting') markStopped(record, { cancel: true });
  if (state.status === 'restarting') await monitorGone(state);
  // Also what an orphan left in its cgroup (a process that cleared its parent-death signal).
  await killAndWait(state);
  if (state.cgroup) await removeCgroup(state.cgroup);
  await ctx.containers.remove(record);
  await removeAnonymousVolumes(ctx, record);
}
