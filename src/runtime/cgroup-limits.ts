// A container's limits written into its cgroup, file by file as runc writes
// them: on v1 into the memory, cpu, cpuset and pids hierarchies, on v2 into
// the one unified group (after the controllers are enabled in its parents'
// cgroup.subtree_control). The files a limit maps to are computed apart from
// the writing (cgroupWrites), so a unit test checks both layouts without root.
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

import { NboxError, isErrno } from '../errors';
import { CPU_PERIOD_US, type Resources } from './resources';

/** CgroupWrite is one value for one file of a controller ('' on v2: the unified group). */
export interface CgroupWrite {
  controller: string;
  file: string;
  value: string;
}

/** V2_CONTROLLERS are the controllers nbox enables for its groups on v2: the limits' and the stats'. */
export const V2_CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'pids'];

/** cgroupWrites maps limits to files; a limit left at 0 (or absent) writes nothing. */
export function cgroupWrites(r: Resources, unified: boolean): CgroupWrite[] {
  return unified ? v2Writes(r) : v1Writes(r);
}

function v1Writes(r: Resources): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const add = (controller: string, file: string, value: number | string) => out.push({ controller, file, value: String(value) });
  if (r.memory) add('memory', 'memory.limit_in_bytes', r.memory);
  if (r.memory && r.memorySwap) add('memory', 'memory.memsw.limit_in_bytes', r.memorySwap);
  if (r.memoryReservation) add('memory', 'memory.soft_limit_in_bytes', r.memoryReservation);
  if (r.oomKillDisable) add('memory', 'memory.oom_control', 1);
  if (r.cpuShares) add('cpu', 'cpu.shares', r.cpuShares);
  if (r.nanoCpus) {
    add('cpu', 'cpu.cfs_period_us', CPU_PERIOD_US);
    add('cpu', 'cpu.cfs_quota_us', cpuQuota(r.nanoCpus));
  }
  if (r.cpusetCpus) add('cpuset', 'cpuset.cpus', r.cpusetCpus);
  if (r.pidsLimit) add('pids', 'pids.max', r.pidsLimit > 0 ? r.pidsLimit : 'max');
  return out;
}

function v2Writes(r: Resources): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const add = (file: string, value: number | string) => out.push({ controller: '', file, value: String(value) });
  if (r.memory) add('memory.max', r.memory);
  // v2 limits swap alone: memory-swap is memory plus swap in Docker's terms.
  if (r.memory && r.memorySwap) add('memory.swap.max', r.memorySwap < 0 ? 'max' : r.memorySwap - r.memory);
  if (r.memoryReservation) add('memory.low', r.memoryReservation);
  if (r.nanoCpus) add('cpu.max', `${cpuQuota(r.nanoCpus)} ${CPU_PERIOD_US}`);
  if (r.cpuShares) add('cpu.weight', sharesToWeight(r.cpuShares));
  if (r.cpusetCpus) add('cpuset.cpus', r.cpusetCpus);
  if (r.pidsLimit) add('pids.max', r.pidsLimit > 0 ? r.pidsLimit : 'max');
  return out;
}

function cpuQuota(nanoCpus: number): number {
  return Math.round((nanoCpus * CPU_PERIOD_US) / 1e9);
}

/** sharesToWeight is runc's ConvertCPUSharesToCgroupV2Value: shares 2…262144 onto weight 1…10000. */
export function sharesToWeight(shares: number): number {
  return shares === 0 ? 0 : 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** controllerDir is the group of one v1 controller among a container's dirs (mount/controller/...);
 * a controller mounted with another (cpu,cpuacct) is found through the mount they share. */
export function controllerDir(dirs: string[], root: string, controller: string): string | undefined {
  const mount = join(root, controller);
  const own = dirs.find((dir) => dir.startsWith(`${mount}/`));
  if (own) return own;
  const shared = realpathOr(mount);
  return shared ? dirs.find((dir) => realpathOr(join(root, relative(root, dir).split('/')[0])) === shared) : undefined;
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return '';
  }
}

/** applyLimits writes the limits into a container's groups (v1: one per controller; v2: dirs[0]).
 * With update, memory and its swap are ordered so the kernel never sees swap below memory. */
export function applyLimits(dirs: string[], root: string, unified: boolean, r: Resources): void {
  const writes = cgroupWrites(r, unified);
  const target = (write: CgroupWrite) => {
    const dir = unified ? dirs[0] : controllerDir(dirs, root, write.controller);
    if (!dir) throw new NboxError('ERR_NBOX_SYS', `the container has no ${write.controller} cgroup (its controller is not mounted, or it started before nbox made one): ${write.file} cannot be set`);
    return join(dir, write.file);
  };
  const memoryPair = writes.filter((w) => /^memory\.(limit_in_bytes|memsw\.limit_in_bytes|max|swap\.max)$/.test(w.file));
  const rest = writes.filter((w) => !memoryPair.includes(w));
  writePair(memoryPair.map((w) => ({ path: target(w), value: w.value })));
  for (const write of rest) writeLimit(target(write), write.value);
}

// The v1 kernel refuses memory.limit_in_bytes above memsw.limit_in_bytes and
// memsw below limit: one order or the other fits, depending on the old values.
// A memsw file missing (no swap accounting) is skipped, as runc skips it.
function writePair(pair: { path: string; value: string }[]): void {
  const present = pair.filter((p) => !p.path.endsWith('memory.memsw.limit_in_bytes') || existsSync(p.path));
  try {
    for (const p of present) writeLimit(p.path, p.value);
  } catch (err) {
    if (!isErrno(err, 'EINVAL') || present.length < 2) throw err;
    for (const p of [...present].reverse()) writeLimit(p.path, p.value);
  }
}

function writeLimit(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new NboxError('ERR_NBOX_SYS', `${path}: the kernel has no such cgroup file (is its controller enabled?)`, { cause: err });
    throw err;
  }
}

/** fillCpuset gives each cpuset group from the hierarchy's root down to dir the
 * CPUs and memory nodes of its parent where it has none: a v1 cpuset group
 * starts empty, and no task may join an empty one. When dir itself was empty
 * and its parent is ownParent (nbox's own, not a --cgroup-parent), the parent
 * is set to give its next groups its own at mkdir (cgroup.clone_children): a
 * write to cpuset.cpus costs the kernel 0.7 ms here, that copy next to nothing. */
export function fillCpuset(root: string, dir: string, ownParent?: string): void {
  const mount = join(root, 'cpuset');
  const path = relative(mount, dir).split('/').filter(Boolean);
  let parent = mount;
  let filled = false;
  for (const name of path) {
    const group = join(parent, name);
    filled = false;
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (readFileSync(join(group, file), 'utf8').trim() !== '') continue;
      writeFileSync(join(group, file), readFileSync(join(parent, file), 'utf8').trim());
      filled = true;
    }
    parent = group;
  }
  if (filled && ownParent !== undefined && dirname(dir) === ownParent) writeFileSync(join(ownParent, 'cgroup.clone_children'), '1');
}

/** enableControllers turns on, in each group from the v2 root down to dir's
 * parent, the controllers that group offers: a group's limit files appear only
 * when its parent delegates the controller. A parent with processes of its own
 * refuses (EBUSY, v2's no-internal-process rule): a limit then fails when written. */
export function enableControllers(root: string, dir: string): void {
  const chain: string[] = [];
  for (let at = dirname(dir); at.startsWith(root); at = dirname(at)) {
    chain.unshift(at);
    if (at === root) break;
  }
  for (const group of chain) {
    const offered = readFileSync(join(group, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    const enabled = new Set(readFileSync(join(group, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/));
    const wanted = V2_CONTROLLERS.filter((c) => offered.includes(c) && !enabled.has(c));
    if (wanted.length === 0) continue;
    try {
      writeFileSync(join(group, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
    } catch (err) {
      if (!isErrno(err, 'EBUSY') && !isErrno(err, 'EOPNOTSUPP')) throw err;
    }
  }
}
