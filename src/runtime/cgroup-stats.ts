// What the kernel counts in a container's cgroup: OOM kills, CPU time, memory,
// block I/O and tasks, read from v1's per-controller groups or v2's one group.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { controllerDir } from './cgroup-limits';

/** CgroupView locates a container's groups: its dirs, the hierarchies' root, and the cgroup version. */
export interface CgroupView {
  dirs: string[];
  root: string;
  unified: boolean;
}

/** oomKillCount is the kernel's count of OOM kills in the container's memory
 * group (v1 memory.oom_control, v2 memory.events: the oom_kill line); 0 when unknown. */
export function oomKillCount(view: CgroupView): number {
  const dir = view.unified ? view.dirs[0] : controllerDir(view.dirs, view.root, 'memory');
  if (!dir) return 0;
  return keyedNumbers(readOr(join(dir, view.unified ? 'memory.events' : 'memory.oom_control'))).get('oom_kill') ?? 0;
}

/** keyedNumbers reads a `key value` per line file (memory.stat, memory.events, cpu.stat). */
export function keyedNumbers(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.split(' ');
    if (key && value !== undefined) out.set(key, Number(value));
  }
  return out;
}

/** readOr reads a cgroup file, or '' once the group is gone. */
export function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
