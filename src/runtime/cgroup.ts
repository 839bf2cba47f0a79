// Every container gets its own cgroup, nested under the caller's: it carries
// Docker's device allow-list, and a kill through it reaches every process of
// the container, even one that cleared its parent-death signal. On cgroup v1
// that is one group in each hierarchy nbox uses (devices and freezer, and the
// limits' and stats' controllers); on v2 one unified group with an eBPF device
// program.
// Cgroup files are kernel state, answered at once: plain synchronous calls
// cost a fraction of a trip through the thread pool each.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, realpathSync, rmdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';

import { isErrno } from '../errors';
import { addon } from '../sys/addon';
import { pidNamespace, processStartTime } from '../sys/proc';
import { applyLimits, enableControllers, fillCpuset } from './cgroup-limits';
import { limitWarnings, parseCpuset, type Resources } from './resources';

/** CGROUP_MOUNT is where the host's cgroup hierarchies are mounted. */
export const CGROUP_MOUNT = '/sys/fs/cgroup';
/** V1 hierarchies a container gets a group in: the device policy and the
 * freezer, then the limits' and the stats' (a kill needs only the first two). */
const V1_CONTROLLERS = ['devices', 'freezer', 'memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio'] as const;

/** DEVICE_ALLOW is Docker's default device cgroup less the console (5:1):
 * any node may be made (mknod), only these may be opened: null, zero, full,
 * random, urandom, tty, ptmx and the ptys. nbox gives no container a
 * /dev/console, and a node made for 5:1 would reach the host's. */
export const DEVICE_ALLOW = ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:2 rwm', 'c 136:* rwm'];

/** cgroupDirs are the directories of a container's group, one per hierarchy,
 * named after its owner (whose death orphans the container: its PID
 * namespace, pid and start time; this process unless a monitor owns it) so
 * that a later store open can tell a live container's group from a leftover. */
export function cgroupDirs(
  id: string,
  owner: { pid: number; startTime: number } = { pid: process.pid, startTime: processStartTime(process.pid) },
  cgroupParent?: string,
): string[] {
  const name = `${pidNamespace()}-${owner.pid}-${owner.startTime}-${id.slice(0, 32)}`;
  // --cgroup-parent names a group from each hierarchy's root, as Docker's cgroupfs driver does.
  const under = cgroupParent ? hierarchies().map(({ mount }) => join(mount, cgroupParent)) : parents();
  return under.map((parent) => join(parent, name));
}

/** isUnifiedHost says whether the host runs cgroup v2 alone. */
export function isUnifiedHost(): boolean {
  return isUnified();
}

const OWNED_NAME = /^(\d+)-(\d+)-(\d+)-[0-9a-f]+$/;

/** joinFiles are the files of a container's group that a single-threaded
 * process joins by writing "0" (itself). On v1 that is `tasks`: it moves the
 * writing thread alone, which the kernel does without the write lock on every
 * thread group, whose RCU wait took 5-9 ms of each run and exec here; moving
 * through cgroup.procs takes that lock. v2 has no such file for a domain group. */
export function joinFiles(dirs: string[]): string[] {
  return dirs.map((dir) => join(dir, isUnified() ? 'cgroup.procs' : 'tasks'));
}

/** createCgroup makes a container's group with the device policy in place;
 * it returns the files the container's init joins it through (joinFiles). */
export async function createCgroup(dirs: string[], resources: Resources = {}, extraRules: string[] | null = null): Promise<string[]> {
  try {
    for (const dir of dirs) mkdirSync(dir, { recursive: true });
    if (isUnified()) {
      // The v2 program (addon's DeviceFilterProgram) holds the default policy only.
      if (extraRules) throw new Error('--device, --device-cgroup-rule and --privileged need cgroup v1 devices here');
      enableControllers(CGROUP_MOUNT, dirs[0]);
      addon().attachDeviceFilter(dirs[0]);
    } else {
      const devices = dirs.find((dir) => dir.startsWith(`${CGROUP_MOUNT}/devices/`))!;
      writeFileSync(join(devices, 'devices.deny'), 'a');
      // --device, --device-cgroup-rule and --privileged ('a *:* rwm') add to Docker's default policy.
      // One rule a write, all through one open file.
      const allow = openSync(join(devices, 'devices.allow'), 'w');
      try {
        for (const rule of [...DEVICE_ALLOW, ...(extraRules ?? [])]) writeSync(allow, rule === 'a *:* rwm' ? 'a' : rule);
      } finally {
        closeSync(allow);
      }
      const cpuset = dirs.find((dir) => dir.startsWith(`${CGROUP_MOUNT}/cpuset/`));
      if (cpuset) fillCpuset(CGROUP_MOUNT, cpuset, parents().find((parent) => parent === dirname(cpuset)));
    }
    applyLimits(dirs, CGROUP_MOUNT, isUnified(), resources);
  } catch (err) {
    await removeCgroup(dirs).catch(() => {});
    throw err;
  }
  return joinFiles(dirs);
}

/** killCgroup SIGKILLs every process in the group. On v1 the group is frozen
 * first, so nothing forks past the kill and no pid is reused meanwhile. */
export async function killCgroup(dirs: string[]): Promise<void> {
  if (isUnified()) {
    try {
      writeFileSync(join(dirs[0], 'cgroup.kill'), '1');
    } catch (err) {
      ignoreGone(err);
    }
    return;
  }
  const freezer = dirs.find((dir) => dir.includes('/freezer/'));
  if (!freezer) return;
  const state = join(freezer, 'freezer.state');
  try {
    writeFileSync(state, 'FROZEN');
    // A task in uninterruptible sleep holds FREEZING up; past a second the
    // kill goes ahead (a frozen task cannot exit, so its pid stays its own).
    for (let waited = 0; waited < 1000 && readFileSync(state, 'utf8').trim() !== 'FROZEN'; waited += 5) await sleep(5);
    for (const pid of procs(freezer)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    writeFileSync(state, 'THAWED');
  } catch (err) {
    ignoreGone(err);
  }
}

/** freezeCgroup freezes (or thaws) every process in the group: `docker pause`.
 * It returns once the kernel reports the group frozen, or after a second. */
export async function freezeCgroup(dirs: string[], frozen: boolean): Promise<void> {
  if (isUnified()) return freezeUnified(dirs[0], frozen);
  const freezer = dirs.find((dir) => dir.includes('/freezer/'));
  if (!freezer) throw new Error('the container has no freezer cgroup');
  const state = join(freezer, 'freezer.state');
  writeFileSync(state, frozen ? 'FROZEN' : 'THAWED');
  for (let waited = 0; frozen && waited < 1000 && readFileSync(state, 'utf8').trim() !== 'FROZEN'; waited += 5) await sleep(5);
}

/** freezeUnified writes a v2 group's cgroup.freeze and waits, as for v1, until its cgroup.events says
 * `frozen 1` (a task in uninterruptible sleep holds it up), or a second: a caller such as `commit --pause`
 * must not read the files while a process still writes them. */
export async function freezeUnified(dir: string, frozen: boolean): Promise<void> {
  writeFileSync(join(dir, 'cgroup.freeze'), frozen ? '1' : '0');
  const isFrozenNow = () => /^frozen 1$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8'));
  for (let waited = 0; frozen && waited < 1000 && !isFrozenNow(); waited += 5) await sleep(5);
}

/** isFrozen reads whether the group is frozen (`docker pause`) from the kernel, so no record has to keep it. */
export function isFrozen(dirs: string[]): boolean {
  try {
    if (isUnified()) return readFileSync(join(dirs[0], 'cgroup.freeze'), 'utf8').trim() === '1';
    const freezer = dirs.find((dir) => dir.includes('/freezer/'));
    return freezer !== undefined && readFileSync(join(freezer, 'freezer.state'), 'utf8').trim() !== 'THAWED';
  } catch {
    return false;
  }
}

/** removeCgroup kills what is left in the group and removes it; a missing group is fine. */
export async function removeCgroup(dirs: string[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      for (const dir of dirs) {
        try {
          rmdirSync(dir);
        } catch (err) {
          ignoreGone(err);
        }
      }
      return;
    } catch (err) {
      // EBUSY: processes remain (the init died, the rest is dying, or one escaped the kill of its init).
      if (!isErrno(err, 'EBUSY') || attempt >= 200) throw err;
      if (attempt % 20 === 0) await killCgroup(dirs);
      await sleep(5);
    }
  }
}

/** sweepOrphanCgroups kills and removes the groups, under this process's
 * parents, of containers whose owner died (nbox killed with SIGKILL). Owners
 * in another PID namespace cannot be checked from here and are left alone,
 * and so are liveGroups, the names of groups whose container the caller has
 * just found alive (ContainerRegistry.sweepOrphans).
 * Best effort: a group that will not empty now is tried again next time. */
export async function sweepOrphanCgroups(liveGroups: ReadonlySet<string> = new Set()): Promise<void> {
  // A container's group has the same name in each hierarchy: its owner is looked at once, and only the
  // groups of dead owners are kept. Every store open comes here, with every running container's groups.
  const ownerLives = new Map<string, boolean>();
  const orphans = new Map<string, string[]>();
  for (const parent of parents()) {
    const names = existsSync(parent) ? readdirSync(parent) : [];
    for (const name of names) {
      if (liveGroups.has(name)) continue;
      const owner = OWNED_NAME.exec(name);
      if (!owner) continue;
      let lives = ownerLives.get(name);
      if (lives === undefined) {
        lives = Number(owner[1]) !== pidNamespace() || String(processStartTime(Number(owner[2]))) === owner[3];
        ownerLives.set(name, lives);
      }
      // parents() are normalized paths: a plain concatenation, where join costs most of this loop.
      if (!lives) orphans.set(name, [...(orphans.get(name) ?? []), `${parent}/${name}`]);
    }
  }
  for (const dirs of orphans.values()) {
    try {
      await killCgroup(dirs);
      await removeCgroup(dirs);
    } catch {
      // Still busy (a task in uninterruptible sleep): the next open tries again.
    }
  }
}

function procs(dir: string): number[] {
  const text = readFileSync(join(dir, 'cgroup.procs'), 'utf8');
  return text.split('\n').filter(Boolean).map(Number);
}

/** hostLimitWarnings are the daemon's warnings for limits on this host's cgroup version. */
export function hostLimitWarnings(resources: Resources): string[] {
  return limitWarnings(resources, isUnified());
}

/** availableCpus are the CPUs a container's cpuset may name: the root cpuset's. */
export function availableCpus(): number[] {
  const file = isUnified() ? join(CGROUP_MOUNT, 'cpuset.cpus.effective') : join(CGROUP_MOUNT, 'cpuset', 'cpuset.cpus');
  try {
    return parseCpuset(readFileSync(file, 'utf8').trim()) ?? [];
  } catch {
    return Array.from({ length: cpus().length }, (_, cpu) => cpu);
  }
}

let unified: boolean | undefined;
function isUnified(): boolean {
  unified ??= existsSync(join(CGROUP_MOUNT, 'cgroup.controllers'));
  return unified;
}

let parentDirs: string[] | undefined;
// parents are `<this process's cgroup>/nbox` in each hierarchy nbox uses:
// nbox nests under whoever runs it, never at a hierarchy's root it may not own.
function parents(): string[] {
  if (parentDirs) return parentDirs;
  const own = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined) continue;
    for (const controller of controllers === '' ? [''] : controllers.split(',')) own.set(controller, path);
  }
  parentDirs = hierarchies().map(({ mount, controller }) => {
    const path = own.get(controller) ?? '/';
    return join(mount, rootOwned(mount, path) ? path : '/', 'nbox');
  });
  return parentDirs;
}

let mounted: { mount: string; controller: string }[] | undefined;
// hierarchies are the mounts nbox makes groups in: the unified one, or each v1
// controller's that is mounted, once (cpu and cpuacct may share one mount).
function hierarchies(): { mount: string; controller: string }[] {
  if (mounted) return mounted;
  if (isUnified()) return (mounted = [{ mount: CGROUP_MOUNT, controller: '' }]);
  const seen = new Set<string>();
  mounted = [];
  for (const controller of V1_CONTROLLERS) {
    const mount = join(CGROUP_MOUNT, controller);
    const real = existsSync(mount) ? realpathSync(mount) : '';
    if (!real || seen.has(real)) continue;
    seen.add(real);
    mounted.push({ mount, controller });
  }
  return mounted;
}

// rootOwned: every group from the hierarchy's root down to path belongs to
// root and no one else may write it. A group delegated to a user (a desktop
// session's) would let that user move root's containers out of their device
// policy and their kill (v2 asks only for write access to the common
// ancestor): nbox then nests at the hierarchy's root instead.
function rootOwned(mount: string, path: string): boolean {
  let dir = mount;
  for (const name of ['', ...path.split('/').filter(Boolean)]) {
    dir = join(dir, name);
    const st = statSync(dir, { throwIfNoEntry: false });
    if (!st || st.uid !== 0 || (st.mode & 0o022) !== 0) return false;
  }
  return true;
}

function ignoreGone(err: unknown): void {
  if (!isErrno(err, 'ENOENT')) throw err;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
