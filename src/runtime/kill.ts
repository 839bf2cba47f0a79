// Ending a running container from outside the process that started it.
import { processStartTime } from '../sys/proc';
import { killCgroup } from './cgroup';
import type { ContainerState } from './containers';

/** killAndWait kills a container (through its cgroup, else its init if the pid
 * is still that process) and waits for it to be gone, so its writable layer is
 * not removed under it. */
export async function killAndWait(state: ContainerState): Promise<void> {
  if (state.cgroup) await killCgroup(state.cgroup);
  else if (processStartTime(state.pid) === state.pidStartTime) {
    try {
      process.kill(state.pid, 'SIGKILL');
    } catch {
      return;
    }
  }
  for (let waited = 0; waited < 5000 && processStartTime(state.pid) === state.pidStartTime; waited += 10) {
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 10));
  }
}
