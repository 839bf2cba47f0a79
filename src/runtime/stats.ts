// `docker stats`' figures of running containers: each group's CPU time against
// the host's, memory less the inactive page cache, network bytes of the
// container's own net namespace, block I/O and tasks, computed as the docker
// CLI computes them from what the daemon reads.
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

import { CGROUP_MOUNT, isUnifiedHost } from './cgroup';
import { controllerDir } from './cgroup-limits';
import { keyedNumbers, readOr, type CgroupView } from './cgroup-stats';
import type { ContainerRecord } from './container-record';
import { isUp } from './container-status';

/** ContainerStats are one container's figures (zeros for a container that is not running). */
export interface ContainerStats {
  id: string;
  name: string;
  /** Percent of one CPU, summed over CPUs (200 is two CPUs busy), as Docker's CPU %. */
  cpuPercent: number;
  /** Bytes in use less the inactive page cache, and the limit (the host's memory when none is set). */
  memoryUsage: number;
  memoryLimit: number;
  memoryPercent: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
  /** The raw CPU times behind cpuPercent, in ns: the group's and the host's at each sample, and the CPUs
   * online (the Engine API's cpu_stats and precpu_stats, from which clients compute the percent), with the
   * times of the samples in ms since the epoch (its preread and read; a single reading's first is the
   * container's start). */
  cpu: { before: number; after: number; systemBefore: number; systemAfter: number; online: number; prereadAt: number; readAt: number };
}

/** Sample is what one reading of a container's group gives. */
interface Sample {
  /** CPU time of the group and of the whole host, in ns. */
  cpu: number;
  system: number;
  memoryUsage: number;
  memoryLimit: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

/** CpuMark is the group's and the host's CPU time at one moment (ms since the epoch). */
type CpuMark = Pick<Sample, 'cpu' | 'system'> & { at: number };

/** containerStats reads every running container's figures. With intervalMs, its CPU % is over two samples
 * that far apart (a stream's refresh); without, over the container's life so far, from one reading and no
 * wait, as podman's first reading (and Docker's daemon, whose previous sample comes from before the request).
 * host says where the cgroup hierarchies are (tests give a recorded tree). */
export async function containerStats(
  records: ContainerRecord[],
  intervalMs?: number,
  host: { root: string; unified: boolean } = { root: CGROUP_MOUNT, unified: isUnifiedHost() },
): Promise<ContainerStats[]> {
  const views = records.map((record): CgroupView | null => (isUp(record.state) && record.state.cgroup ? { dirs: record.state.cgroup, ...host } : null));
  let first: (CpuMark | null)[] | undefined;
  if (intervalMs !== undefined && views.some(Boolean)) {
    // The first sample needs only CPU times; the second reads everything.
    const { system, at } = hostCpu();
    first = views.map((v) => v && { cpu: cpuNs(v), system, at });
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const { system, online, at } = hostCpu();
  return records.map((record, i) => {
    const v = views[i];
    if (!v) return figures(record, { cpu: 0, system: 0, at }, null, online);
    const after = sampleOf(record, v, system);
    return figures(record, first?.[i] ?? startMark(record, system, online, at), { ...after, at }, online);
  });
}

// startMark is where the container's life began: the group's CPU time then (the monitor records it, as the
// group outlives a restart; 0 in a new group), and the host's, which has since run all its CPUs for as long.
function startMark(record: ContainerRecord, system: number, online: number, at: number): CpuMark {
  const started = Math.min(Date.parse(record.state.startedAt) || at, at);
  return { cpu: record.state.cpuAtStart ?? 0, system: Math.max(0, system - (at - started) * 1e6 * online), at: started };
}

// figures are a container's from its two samples; without a second (it is not running), zeros at before's time.
function figures(record: ContainerRecord, before: CpuMark, after: (Sample & { at: number }) | null, online: number): ContainerStats {
  const base = { id: record.config.id, name: record.config.name };
  if (!after) {
    const cpu = { before: 0, after: 0, systemBefore: 0, systemAfter: 0, online, prereadAt: before.at, readAt: before.at };
    return { ...base, cpuPercent: 0, memoryUsage: 0, memoryLimit: 0, memoryPercent: 0, netRx: 0, netTx: 0, blockRead: 0, blockWrite: 0, pids: 0, cpu };
  }
  const cpuDelta = after.cpu - before.cpu;
  const systemDelta = after.system - before.system;
  return {
    ...base,
    cpuPercent: cpuDelta > 0 && systemDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0,
    memoryUsage: after.memoryUsage,
    memoryLimit: after.memoryLimit,
    memoryPercent: after.memoryLimit > 0 ? (after.memoryUsage / after.memoryLimit) * 100 : 0,
    netRx: after.netRx,
    netTx: after.netTx,
    blockRead: after.blockRead,
    blockWrite: after.blockWrite,
    pids: after.pids,
    cpu: { before: before.cpu, after: after.cpu, systemBefore: before.system, systemAfter: after.system, online, prereadAt: before.at, readAt: after.at },
  };
}

// cgroupFile reads one file of a container's group for a controller ('' when it has none).
function cgroupFile(view: CgroupView, controller: string, name: string): string {
  const at = view.unified ? view.dirs[0] : controllerDir(view.dirs, view.root, controller);
  return at ? readOr(`${at}/${name}`) : '';
}

// cpuNs is the group's CPU time: v1 cpuacct.usage, v2 cpu.stat's usage_usec.
function cpuNs(view: CgroupView): number {
  return view.unified ? (keyedNumbers(cgroupFile(view, 'cpu', 'cpu.stat')).get('usage_usec') ?? 0) * 1000 : Number(cgroupFile(view, 'cpuacct', 'cpuacct.usage') || 0);
}

function sampleOf(record: ContainerRecord, view: CgroupView, system: number): Sample {
  const file = (controller: string, name: string) => cgroupFile(view, controller, name);
  // The host's interfaces are not the container's; none has only lo, which Docker leaves out.
  const net = record.config.network === 'host' || record.config.network === 'none' ? { rx: 0, tx: 0 } : netBytes(record.state.pid);
  const memory = view.unified ? memoryV2(file('memory', 'memory.current'), file('memory', 'memory.stat'), file('memory', 'memory.max'))
    : memoryV1(file('memory', 'memory.usage_in_bytes'), file('memory', 'memory.stat'), file('memory', 'memory.limit_in_bytes'));
  const block = view.unified ? blockV2(file('io', 'io.stat'))
    : blockV1(file('blkio', 'blkio.io_service_bytes_recursive') || file('blkio', 'blkio.throttle.io_service_bytes_recursive'));
  return {
    cpu: cpuNs(view),
    system,
    ...memory,
    netRx: net.rx,
    netTx: net.tx,
    ...block,
    pids: Number(file('pids', 'pids.current').trim() || 0),
  };
}

/** memoryV1 is usage less total_inactive_file (the docker CLI's calculateMemUsageUnixNoCache). */
export function memoryV1(usageText: string, statText: string, limitText: string): { memoryUsage: number; memoryLimit: number } {
  const usage = Number(usageText.trim() || 0);
  const inactive = keyedNumbers(statText).get('total_inactive_file') ?? 0;
  return { memoryUsage: inactive < usage ? usage - inactive : usage, memoryLimit: hostCapped(Number(limitText.trim() || 0)) };
}

/** memoryV2 is memory.current less inactive_file; memory.max `max` is the host's memory. */
export function memoryV2(currentText: string, statText: string, maxText: string): { memoryUsage: number; memoryLimit: number } {
  const usage = Number(currentText.trim() || 0);
  const inactive = keyedNumbers(statText).get('inactive_file') ?? 0;
  const max = maxText.trim();
  return { memoryUsage: inactive < usage ? usage - inactive : usage, memoryLimit: hostCapped(max === 'max' || max === '' ? Infinity : Number(max)) };
}

// The daemon reports no limit above the machine's memory.
function hostCapped(limit: number): number {
  return Math.min(limit || Infinity, totalmem());
}

/** blockV1 sums the Read and Write lines of blkio's io_service_bytes_recursive (`8:0 Read 4096`). */
export function blockV1(text: string): { blockRead: number; blockWrite: number } {
  let blockRead = 0;
  let blockWrite = 0;
  for (const line of text.split('\n')) {
    const [, op, value] = line.split(' ');
    if (op?.toLowerCase() === 'read') blockRead += Number(value);
    else if (op?.toLowerCase() === 'write') blockWrite += Number(value);
  }
  return { blockRead, blockWrite };
}

/** blockV2 sums rbytes and wbytes of io.stat (`8:0 rbytes=4096 wbytes=0 …`). */
export function blockV2(text: string): { blockRead: number; blockWrite: number } {
  let blockRead = 0;
  let blockWrite = 0;
  for (const match of text.matchAll(/\b([rw])bytes=(\d+)/g)) {
    if (match[1] === 'r') blockRead += Number(match[2]);
    else blockWrite += Number(match[2]);
  }
  return { blockRead, blockWrite };
}

/** netBytes sums the received and sent bytes of every interface but lo in the init's net namespace,
 * as Docker counts the container's endpoints; 0 once it is gone. */
export function netBytes(pid: number): { rx: number; tx: number } {
  return parseNetDev(readOr(`/proc/${pid}/net/dev`));
}

/** parseNetDev reads /proc/net/dev: `name: rx_bytes packets … (8 fields) tx_bytes …`. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim() === 'lo') continue;
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    rx += fields[0] ?? 0;
    tx += fields[8] ?? 0;
  }
  return { rx, tx };
}

// hostCpu is the host's CPU time in ns from /proc/stat's first line and the CPUs online (its cpuN lines),
// as the daemon's getSystemCPUUsage (USER_HZ 100), and when it was read.
function hostCpu(): { system: number; online: number; at: number } {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const ticks = lines[0].split(/\s+/).slice(1, 8).reduce((sum, value) => sum + Number(value), 0);
  let online = 0;
  while (/^cpu\d/.test(lines[online + 1] ?? '')) online++;
  return { system: ticks * 1e7, online: Math.max(online, 1), at: Date.now() };
}
