import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

import { blockV1, blockV2, containerStats, memoryV1, memoryV2, parseNetDev } from '../../../src/runtime/stats';
import { record } from './records';
import { binarySize } from '../../../src/cli/format';

test('memory usage leaves out the inactive page cache, as the docker CLI does (v1 total_inactive_file, v2 inactive_file)', (t) => {
  t.deepEqual(memoryV1('10485760\n', 'cache 4096\ntotal_inactive_file 4194304\n', '67108864\n'), { memoryUsage: 6291456, memoryLimit: 67108864 });
  // No limit: the host's memory, as the daemon reports it.
  t.is(memoryV1('100', '', '9223372036854771712').memoryLimit, totalmem());
  t.deepEqual(memoryV2('8192', 'anon 4096\ninactive_file 4096\n', 'max\n'), { memoryUsage: 4096, memoryLimit: totalmem() });
});

test('block I/O sums the reads and writes of every device', (t) => {
  t.deepEqual(blockV1('8:0 Read 4096\n8:0 Write 512\n8:16 Read 1024\n8:0 Sync 100\nTotal 5632\n'), { blockRead: 5120, blockWrite: 512 });
  t.deepEqual(blockV2('8:0 rbytes=4096 wbytes=512 rios=1 wios=1\n8:16 rbytes=1 wbytes=2\n'), { blockRead: 4097, blockWrite: 514 });
});

test('network bytes of every interface but lo', (t) => {
  const dev = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0',
    '  eth0:    2048       5    0    0    0     0          0         0      648       4    0    0    0     0       0          0',
    '',
  ].join('\n');
  t.deepEqual(parseNetDev(dev), { rx: 2048, tx: 648 });
});

test('binarySize is units.BytesSize', (t) => {
  t.is(binarySize(0), '0B');
  t.is(binarySize(1117184), '1.065MiB');
  t.is(binarySize(64 * 1024 * 1024), '64MiB');
  t.is(binarySize(860 * 1024), '860KiB');
});

test('containerStats against a recorded v2 group: memory, io, pids, and a stopped container in zeros', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nbox-statsv2-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const group = join(root, 'nbox', 'c1');
  mkdirSync(group, { recursive: true });
  const files: Record<string, string> = {
    'cpu.stat': 'usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\n',
    'memory.current': '10485760\n',
    'memory.stat': 'anon 6291456\ninactive_file 2097152\n',
    'memory.max': '67108864\n',
    'io.stat': '8:0 rbytes=1000 wbytes=2000 rios=1 wios=2 dbytes=0 dios=0\n',
    'pids.current': '3\n',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(group, name), text);
  // pid: this process, so its net namespace is read; no net figure is asserted.
  const running = record({ status: 'running', pid: process.pid, cgroup: [group] }, 'up');
  const stopped = record({ status: 'exited' }, 'down');
  const [up, down] = await containerStats([running, stopped], 10, { root, unified: true });
  t.like(up, { name: 'up', memoryUsage: 8388608, memoryLimit: 67108864, memoryPercent: 12.5, blockRead: 1000, blockWrite: 2000, pids: 3, cpuPercent: 0 });
  t.like(down, { name: 'down', memoryUsage: 0, memoryLimit: 0, pids: 0, cpuPercent: 0 });
});

test('containerStats without an interval: the CPU % over the container\'s life so far, from one reading', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nbox-statslife-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const group = join(root, 'nbox', 'c1');
  mkdirSync(group, { recursive: true });
  // 2 s of CPU in a group whose container started 20 s ago: a tenth of one CPU. (The host's CPU time since
  // boot bounds the start's system reading, so the start must lie well after boot: a fresh CI machine is minutes old.)
  writeFileSync(join(group, 'cpu.stat'), 'usage_usec 2000000\nuser_usec 1200000\nsystem_usec 800000\n');
  const startedAt = new Date(Date.now() - 20_000).toISOString();
  const fresh = record({ status: 'running', pid: process.pid, cgroup: [group], startedAt }, 'fresh');
  // Restarted in the same group, which had used 1 s by then: only this life's 1 s counts.
  const restarted = record({ status: 'running', pid: process.pid, cgroup: [group], startedAt, restartCount: 1, cpuAtStart: 1e9 }, 'restarted');
  const [one, two] = await containerStats([fresh, restarted], undefined, { root, unified: true });
  // A second this test might take past startedAt's 20 s moves the figures by a twentieth at most.
  t.true(one.cpuPercent > 9.5 && one.cpuPercent <= 10, String(one.cpuPercent));
  t.true(two.cpuPercent > 4.75 && two.cpuPercent <= 5, String(two.cpuPercent));
  // The Engine API's cpu_stats and precpu_stats give clients the same figure: precpu is the container's start.
  const { before, after, systemBefore, systemAfter, online, prereadAt, readAt } = two.cpu;
  t.is(before, 1e9);
  t.is(after, 2e9);
  t.is(((after - before) / (systemAfter - systemBefore)) * online * 100, two.cpuPercent);
  t.is(prereadAt, Date.parse(startedAt));
  t.true(readAt - prereadAt >= 20_000);
});
