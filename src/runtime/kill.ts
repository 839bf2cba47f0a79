// Ending a running container from outside the process that started it.
import { closeSync } from 'node:fs';

import { addon } from '../sys/addon';
import { processStartTime } from '../sys/proc';
import { killCgroup } from './cgroup';
import type { ContainerState } from './container-state';

/** signalInit signals a container's init through a pidfd opened before its start time is
 * checked, so a pid reused meanwhile is never signalled; false when it is gone. */
export function signalInit(state: ContainerState, signal: number): boolean {
  const pidfd = state.pid > 0 ? addon().pidfdOpen(state.pid) : null;
  if (pidfd === null) return false;
  try {
    return processStartTime(state.pid) === state.pidStartTime && addon().kill(pidfd, signal);
  } finally {
    closeSync(pidfd);
  }
}

/** killContainer kills a container; false when there was no init to kill. The init's SIGKILL is
 * enough: every container has its own PID namespace, and the kernel kills all of a namespace's
 * processes when its init ends. A paused one goes through its cgroup, whose freezer would hold
 * the kill until a thaw. */
export async function killContainer(state: ContainerState): Promise<boolean> {
  if (!state.cgroup || !state.paused) return signalInit(state, 9);
  await killCgroup(state.cgroup);
  return true;
}

/** killAndWait kills a container and waits for its init to be gone, so its
 * writable layer is not removed under it. */
export async function killAndWait(state: ContainerState): Promise<void> {
  if (!(await killContainer(state))) return;
  // A killed init is gone within a millisecond or so: look again soon, then less often, for 5 s at most.
  for (let waited = 0, pause = 1; waited < 5000 && processStartTime(state.pid) === state.pidStartTime; waited += pause, pause = Math.min(pause * 2, 10)) {
    await new Promise((resolveSleep) => setTimeout(resolveSleep, pause));
  }
}
