// `kill`, `stop` and `wait` on a container another process (or this one) runs:
// its init is signalled only while the recorded pid is still that process (its
// start time matches), and its end is read from the record its owner writes.
import { constants as osConstants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

import { NboxError } from '../errors';
import { pidNamespace, processStartTime } from '../sys/proc';
import type { ContainerRecord } from './container-record';
import type { ContainerRegistry } from './container-registry';
import type { ContainerState } from './container-state';
import { freezeCgroup } from './cgroup';
import { ChangeSignal } from './change-signal';
import { killAndWait, signalInit } from './kill';
import { killCancelsRestart } from './restart-policy';
import { markStopped } from './stop-marker';

const POLL_MS = 20;

/** parseSignal reads a signal as Docker takes it: `KILL`, `SIGKILL` or `9`. */
export function parseSignal(value: string): number {
  const name = value.toUpperCase();
  const number = /^\d+$/.test(value) ? Number(value) : osConstants.signals[(name.startsWith('SIG') ? name : `SIG${name}`) as NodeJS.Signals];
  if (number === undefined || number < 1 || number > 64) throw new NboxError('ERR_NBOX_USAGE', `Invalid signal: ${value}`);
  return number;
}

/** isRunning tells whether the container's init is still the process its record names. */
export function isRunning(record: ContainerRecord): boolean {
  const { state } = record;
  return state.status === 'running' && state.pid > 0 && processStartTime(state.pid) === state.pidStartTime;
}

/** signalContainer sends signal to the container's init (`docker kill -s`); stopSignal is the
 * image's STOPSIGNAL, which decides with the signal whether the kill ends the restart policy. */
export function signalContainer(record: ContainerRecord, ref: string, signal: number, stopSignal?: number): void {
  if (!isRunning(record)) {
    throw new NboxError('ERR_NBOX_CONFLICT', `cannot kill container: ${ref}: container ${record.config.id} is not running`);
  }
  // Before the signal: the monitor reads it as soon as the init exits.
  markStopped(record, { cancel: killCancelsRestart(signal, stopSignal) });
  // Gone between the check and the signal: it ended on its own.
  signalInit(record.state, signal);
}

/** stopContainer sends the stop signal, waits up to timeoutSeconds for the
 * container to end, then kills it (`docker stop -t`); a stopped one is left as it is. */
export async function stopContainer(record: ContainerRecord, signal: number, timeoutSeconds: number): Promise<void> {
  if (record.state.status === 'restarting') {
    // Between two runs: the monitor sees the marker and ends instead of running it again.
    markStopped(record, { cancel: true });
    await monitorGone(record.state);
    return;
  }
  if (!isRunning(record)) return;
  markStopped(record, { cancel: true });
  // Watched before the signal, so that the owner's record of the end is not missed: it wakes the wait at once.
  const changes = new ChangeSignal(record.dir, POLL_MS, (name) => name === 'state.json');
  try {
    if (!signalInit(record.state, signal)) return;
    const deadline = Date.now() + Math.max(0, timeoutSeconds) * 1000;
    while (Date.now() < deadline) {
      if (processStartTime(record.state.pid) !== record.state.pidStartTime) return;
      await changes.next();
    }
  } finally {
    changes.close();
  }
  await killAndWait(record.state);
}

/** monitorGone waits (up to a minute, its longest restart delay) for the owner of a restarting
 * container to see the stop marker and end. */
export async function monitorGone(state: ContainerState): Promise<void> {
  const { owner } = state;
  if (!owner || (owner.pidNamespace !== undefined && owner.pidNamespace !== pidNamespace())) return;
  for (let waited = 0; waited < 60_000 && processStartTime(owner.pid) === owner.startTime; waited += POLL_MS) await sleep(POLL_MS);
}

/** waitContainer resolves with the container's exit code once its end is on
 * record (`docker wait`). The owner writes the code as the init exits; an
 * owner that died first leaves it killed with its container: 137. */
export async function waitContainer(containers: ContainerRegistry, record: ContainerRecord, ref: string): Promise<number> {
  // Woken as the owner renames a new state.json into place; the poll is for an owner that died without one.
  const changes = new ChangeSignal(record.dir, POLL_MS, (name) => name === 'state.json');
  try {
    return await awaitEnd(containers, record, ref, changes);
  } finally {
    changes.close();
  }
}

async function awaitEnd(containers: ContainerRegistry, record: ContainerRecord, ref: string, changes: ChangeSignal): Promise<number> {
  for (;;) {
    const current = await containers.readRecorded(record.config.id);
    if (!current) throw new NboxError('ERR_NBOX_NO_SUCH_CONTAINER', `No such container: ${ref}`);
    const { state } = current;
    // Docker's "not-running": an exited container, or one created and not started (a failed start's code).
    if (state.status === 'exited' || (state.status === 'created' && state.owner === undefined)) return state.exitCode;
    const { owner } = state;
    const ownerDied = owner !== undefined && (owner.pidNamespace === undefined || owner.pidNamespace === pidNamespace()) &&
      processStartTime(owner.pid) !== owner.startTime;
    if (ownerDied && (state.status === 'created' || processStartTime(state.pid) !== state.pidStartTime)) {
      // The monitor writes the exit before it ends: read again, as it may have done so after the read above.
      const final = await containers.readRecorded(record.config.id);
      if (!final) throw new NboxError('ERR_NBOX_NO_SUCH_CONTAINER', `No such container: ${ref}`);
      return final.state.status === 'exited' ? final.state.exitCode : 137;
    }
    await changes.next();
  }
}

/** pauseContainer freezes (paused) or thaws a running container's processes through its cgroup (`docker pause`/`unpause`). */
export async function pauseContainer(record: ContainerRecord, paused: boolean): Promise<void> {
  const { id } = record.config;
  if (!isRunning(record) || !record.state.cgroup) throw new NboxError('ERR_NBOX_CONFLICT', `container ${id} is not running`);
  if (paused && record.state.paused) throw new NboxError('ERR_NBOX_CONFLICT', `container ${id} is already paused`);
  if (!paused && !record.state.paused) throw new NboxError('ERR_NBOX_CONFLICT', `container ${id} is not paused`);
  await freezeCgroup(record.state.cgroup, paused);
}
