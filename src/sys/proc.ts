// Process identity from /proc: a pid plus its start time names one process,
// even after the pid is reused.
import { readFileSync, statSync } from 'node:fs';

/** processStartTime is field 22 of /proc/<pid>/stat (clock ticks since boot), or -1 if no such
 * process or a dead one its parent has not reaped yet (a zombie acts no more, and a killed
 * monitor's parent, often the host's init, may take its time). */
export function processStartTime(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return -1;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return -1;
  return Number(fields[19]);
}

let ownPidNamespace: number | undefined;

/** pidNamespace is the inode of this process's PID namespace: a pid names a
 * process only within one, so a pid recorded in another cannot be checked here. */
export function pidNamespace(): number {
  ownPidNamespace ??= statSync('/proc/self/ns/pid').ino;
  return ownPidNamespace;
}

/** inCgroup says whether a live process is in the group named `name` (a directory's last component) or
 * below it, in some hierarchy. Start times count clock ticks (10 ms here), so a pid another process took
 * within the same tick passes that check; a host process is never in a container's group. */
export function inCgroup(pid: number, name: string): boolean {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return false;
  }
  return text.split('\n').some((line) => line.endsWith(`/${name}`) || line.includes(`/${name}/`));
}
