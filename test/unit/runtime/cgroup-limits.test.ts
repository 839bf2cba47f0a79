import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { applyLimits, cgroupWrites, controllerDir, enableControllers, fillCpuset, sharesToWeight } from '../../../src/runtime/cgroup-limits';
import { freezeUnified } from '../../../src/runtime/cgroup';
import { oomKillCount } from '../../../src/runtime/cgroup-stats';

const LIMITS = { memory: 64 << 20, memorySwap: 96 << 20, memoryReservation: 32 << 20, nanoCpus: 1.5e9, cpuShares: 512, cpusetCpus: '0-1', pidsLimit: 50, oomKillDisable: true };

test('v1: the files runc writes, per controller', (t) => {
  t.deepEqual(cgroupWrites(LIMITS, false).map((w) => `${w.controller}/${w.file}=${w.value}`), [
    'memory/memory.limit_in_bytes=67108864',
    'memory/memory.memsw.limit_in_bytes=100663296',
    'memory/memory.soft_limit_in_bytes=33554432',
    'memory/memory.oom_control=1',
    'cpu/cpu.shares=512',
    'cpu/cpu.cfs_period_us=100000',
    'cpu/cpu.cfs_quota_us=150000',
    'cpuset/cpuset.cpus=0-1',
    'pids/pids.max=50',
  ]);
  t.deepEqual(cgroupWrites({ pidsLimit: -1 }, false).map((w) => w.value), ['max']);
  t.deepEqual(cgroupWrites({}, false), []);
});

test('v2: swap apart from memory, cpu.max, and runc\'s shares to weight', (t) => {
  t.deepEqual(cgroupWrites(LIMITS, true).map((w) => `${w.file}=${w.value}`), [
    'memory.max=67108864',
    'memory.swap.max=33554432',
    'memory.low=33554432',
    'cpu.max=150000 100000',
    `cpu.weight=${sharesToWeight(512)}`,
    'cpuset.cpus=0-1',
    'pids.max=50',
  ]);
  t.deepEqual(cgroupWrites({ memory: 8 << 20, memorySwap: -1 }, true).map((w) => `${w.file}=${w.value}`), ['memory.max=8388608', 'memory.swap.max=max']);
  t.is(sharesToWeight(1024), 39);
  t.is(sharesToWeight(2), 1);
  t.is(sharesToWeight(262144), 10000);
});

// A recorded v2 tree: the shape of /sys/fs/cgroup on a unified host, as plain files.
function v2Tree(t: { teardown(fn: () => void): void }): { root: string; group: string } {
  const root = mkdtempSync(join(tmpdir(), 'nbox-cgv2-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const levels = [root, join(root, 'user.slice'), join(root, 'user.slice', 'nbox')];
  for (const dir of levels) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cgroup.controllers'), dir === root ? 'cpuset cpu io memory hugetlb pids rdma misc\n' : 'cpuset cpu io memory pids\n');
    writeFileSync(join(dir, 'cgroup.subtree_control'), dir === root ? 'cpu memory\n' : '\n');
  }
  const group = join(levels[2], 'c1');
  mkdirSync(group);
  for (const file of ['memory.max', 'memory.swap.max', 'memory.low', 'cpu.max', 'cpu.weight', 'cpuset.cpus', 'pids.max']) writeFileSync(join(group, file), '');
  return { root, group };
}

test('v2 against a recorded tree: controllers enabled down to the parent, limits written in the group', (t) => {
  const { root, group } = v2Tree(t);
  enableControllers(root, group);
  t.is(readFileSync(join(root, 'cgroup.subtree_control'), 'utf8'), '+cpuset +io +pids');
  t.is(readFileSync(join(root, 'user.slice', 'cgroup.subtree_control'), 'utf8'), '+cpuset +cpu +io +memory +pids');
  t.is(readFileSync(join(root, 'user.slice', 'nbox', 'cgroup.subtree_control'), 'utf8'), '+cpuset +cpu +io +memory +pids');
  applyLimits([group], root, true, LIMITS);
  t.is(readFileSync(join(group, 'memory.max'), 'utf8'), '67108864');
  t.is(readFileSync(join(group, 'memory.swap.max'), 'utf8'), '33554432');
  t.is(readFileSync(join(group, 'cpu.max'), 'utf8'), '150000 100000');
  t.is(readFileSync(join(group, 'pids.max'), 'utf8'), '50');
});

test('v1 cpuset: an empty group gets its parent\'s CPUs and memory nodes, level by level', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nbox-cgv1-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const levels = [join(root, 'cpuset'), join(root, 'cpuset', 'nbox'), join(root, 'cpuset', 'nbox', 'c1')];
  for (const [i, dir] of levels.entries()) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cpuset.cpus'), i === 0 ? '0-3\n' : '\n');
    writeFileSync(join(dir, 'cpuset.mems'), i === 0 ? '0\n' : '\n');
  }
  fillCpuset(root, levels[2]);
  t.is(readFileSync(join(levels[1], 'cpuset.cpus'), 'utf8'), '0-3');
  t.is(readFileSync(join(levels[2], 'cpuset.mems'), 'utf8'), '0');
  t.false(existsSync(join(levels[1], 'cgroup.clone_children')), 'a parent that is not nbox\'s own is left as it is');
});

test('v1 cpuset: nbox\'s own parent is set to give its new groups its CPUs at mkdir, once a group had to be filled', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nbox-cgv1-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const [parent, first, second] = [join(root, 'cpuset', 'nbox'), join(root, 'cpuset', 'nbox', 'c1'), join(root, 'cpuset', 'nbox', 'c2')];
  mkdirSync(join(root, 'cpuset'));
  writeFileSync(join(root, 'cpuset', 'cpuset.cpus'), '0-1\n');
  writeFileSync(join(root, 'cpuset', 'cpuset.mems'), '0\n');
  for (const dir of [parent, first, second]) {
    mkdirSync(dir);
    // c2 as the kernel makes it once clone_children is set: its parent's already.
    writeFileSync(join(dir, 'cpuset.cpus'), dir === second ? '0-1\n' : '\n');
    writeFileSync(join(dir, 'cpuset.mems'), dir === second ? '0\n' : '\n');
  }
  fillCpuset(root, first, parent);
  t.is(readFileSync(join(parent, 'cgroup.clone_children'), 'utf8'), '1');
  rmSync(join(parent, 'cgroup.clone_children'));
  fillCpuset(root, second, parent);
  t.false(existsSync(join(parent, 'cgroup.clone_children')), 'nothing to fill, nothing written');
});

test('oomKillCount reads the oom_kill line of v1 memory.oom_control and of v2 memory.events', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nbox-cgoom-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const v1 = join(root, 'memory', 'nbox', 'c1');
  mkdirSync(v1, { recursive: true });
  writeFileSync(join(v1, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
  t.is(oomKillCount({ dirs: [join(root, 'devices', 'nbox', 'c1'), v1], root, unified: false }), 2);
  const v2 = join(root, 'nbox', 'c2');
  mkdirSync(v2, { recursive: true });
  writeFileSync(join(v2, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n');
  t.is(oomKillCount({ dirs: [v2], root, unified: true }), 1);
  t.is(oomKillCount({ dirs: [join(root, 'gone')], root, unified: true }), 0);
});

test('controllerDir finds a controller mounted with another (cpu,cpuacct) through their shared mount', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nbox-cgco-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'cpu,cpuacct', 'nbox', 'c1'), { recursive: true });
  symlinkSync('cpu,cpuacct', join(root, 'cpu'));
  symlinkSync('cpu,cpuacct', join(root, 'cpuacct'));
  mkdirSync(join(root, 'memory', 'nbox', 'c1'), { recursive: true });
  const dirs = [join(root, 'memory', 'nbox', 'c1'), join(root, 'cpu', 'nbox', 'c1')];
  t.is(controllerDir(dirs, root, 'cpu'), dirs[1]);
  t.is(controllerDir(dirs, root, 'cpuacct'), dirs[1]);
  t.is(controllerDir(dirs, root, 'pids'), undefined);
});

test('v2 pause against a recorded group: freeze returns once cgroup.events says frozen, not as soon as cgroup.freeze is written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbox-cgv2-freeze-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
  // The kernel reports the freeze a moment after the write, once every task stopped.
  setTimeout(() => writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n'), 50);
  await freezeUnified(dir, true);
  t.is(readFileSync(join(dir, 'cgroup.freeze'), 'utf8'), '1');
  t.regex(readFileSync(join(dir, 'cgroup.events'), 'utf8'), /frozen 1/);
  await freezeUnified(dir, false);
  t.is(readFileSync(join(dir, 'cgroup.freeze'), 'utf8'), '0');
});
