// Every container gets its own cgroup, nested under the caller's: it carries
// Docker's device allow-list, and a kill through it reaches every process of
// the container, even one that cleared its parent-death signal. On cgroup v1
// that is one group in the devices and freezer hierarchies each; on v2 one
// unified group with an eBPF device program.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { isErrno } from '../errors';
import { addon } from '../sys/addon';
import { processStartTime } from '../sys/proc';

const CGROUP_MOUNT = '/sys/fs/cgroup';
const V1_CONTROLLERS = ['devices', 'freezer'] as const;

/** DEVICE_ALLOW is Docker's default device cgroup: any node may be made
 * (mknod), only these may be opened: null, zero, full, random, urandom,
 * tty, console, ptmx and the container's own ptys. */
export const DEVICE_ALLOW = ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm'];

/** ContainerCgroup is a container's group: one directory per hierarchy. */
export interface ContainerCgroup {
  dirs: string[];
  /** The cgroup.procs files the container's init joins. */
  procs: string[];
}

/** OwnedName names a cgroup after the process whose death orphans it, so a
 * later store open can tell a live container's group from a leftover. */
export function ownedName(id: string): string {
  return `${process.pid}-${processStartTime(process.pid)}-${id.slice(0, 32)}`;
}

const OWNED_NAME = /^(\d+)-(\d+)-[0-9a-f]+$/;

/** createCgroup makes a container's group with the device policy in place. */
export async function createCgroup(name: string): Promise<ContainerCgroup> {
  const dirs = parents().map((parent) => join(parent, name));
  try {
    for (const dir of dirs) await mkdir(dir, { recursive: true });
    if (isUnified()) {
      addon().attachDeviceFilter(dirs[0]);
    } else {
      const devices = dirs[V1_CONTROLLERS.indexOf('devices')];
      await writeFile(join(devices, 'devices.deny'), 'a');
      for (const rule of DEVICE_ALLOW) await writeFile(join(devices, 'devices.allow'), rule);
    }
  } catch (err) {
    await removeCgroup(dirs).catch(() => {});
    throw err;
  }
  return { dirs, procs: dirs.map((dir) => join(dir, 'cgroup.procs')) };
}

/** killCgroup SIGKILLs every process in the group. On v1 the group is frozen
 * first, so nothing forks past the kill and no pid is reused meanwhile. */
export async function killCgroup(dirs: string[]): Promise<void> {
  if (isUnified()) {
    await writeFile(join(dirs[0], 'cgroup.kill'), '1').catch(ignoreGone);
    return;
  }
  const freezer = dirs.find((dir) => dir.includes('/freezer/'));
  if (!freezer) return;
  const state = join(freezer, 'freezer.state');
  try {
    await writeFile(state, 'FROZEN');
    for (let tries = 0; tries < 100 && (await readFile(state, 'utf8')).trim() !== 'FROZEN'; tries++) await sleep(1);
    for (const pid of await procs(freezer)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await writeFile(state, 'THAWED');
  } catch (err) {
    ignoreGone(err);
  }
}

/** removeCgroup kills what is left in the group and removes it; a missing group is fine. */
export async function removeCgroup(dirs: string[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      for (const dir of dirs) await rmdir(dir).catch(ignoreGone);
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
 * parents, of containers whose owner died (nbox killed with SIGKILL). */
export async function sweepOrphanCgroups(): Promise<void> {
  const groups = new Map<string, string[]>();
  for (const parent of parents()) {
    const names = await readdir(parent).catch(() => [] as string[]);
    for (const name of names) {
      const owner = OWNED_NAME.exec(name);
      if (!owner || String(processStartTime(Number(owner[1]))) === owner[2]) continue;
      groups.set(name, [...(groups.get(name) ?? []), join(parent, name)]);
    }
  }
  for (const dirs of groups.values()) {
    await killCgroup(dirs);
    await removeCgroup(dirs);
  }
}

async function procs(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, 'cgroup.procs'), 'utf8');
  return text.split('\n').filter(Boolean).map(Number);
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
  parentDirs = isUnified()
    ? [join(CGROUP_MOUNT, own.get('') ?? '/', 'nbox')]
    : V1_CONTROLLERS.map((controller) => join(CGROUP_MOUNT, controller, own.get(controller) ?? '/', 'nbox'));
  return parentDirs;
}

function ignoreGone(err: unknown): void {
  if (!isErrno(err, 'ENOENT')) throw err;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
