// A container's resources over the API: stats (one reading, or one a second
// while the client stays), update of its limits, and commit of its layer.
import type { ServerResponse } from 'node:http';

import { stateName, type ContainerStats } from '../api';
import type { RequestContext, Routes, Handler } from './router';
import { EngineError, flag, readJson, sendJson } from './http';
import { resourcesOf, restartPolicyOf, type UpdateBody } from './create-config';

/** STREAM_INTERVAL_MS is how often a streaming stats reply gets a line, as Docker's (one a second). */
const STREAM_INTERVAL_MS = 1000;

/** statsJson is a reading in Docker's StatsResponse shape, as far as nbox's figures go: clients compute the CPU
 * percent from cpu_stats against precpu_stats (for a single reading, the container's start: preread then),
 * and read memory usage already less the page cache. */
export function statsJson(stats: ContainerStats): Record<string, unknown> {
  const cpu = (total: number, system: number) => ({
    cpu_usage: { total_usage: total, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    system_cpu_usage: system,
    online_cpus: stats.cpu.online,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  });
  const blkio = (op: string, value: number) => ({ major: 0, minor: 0, op, value });
  return {
    name: `/${stats.name}`,
    id: stats.id,
    read: new Date(stats.cpu.readAt).toISOString(),
    preread: new Date(stats.cpu.prereadAt).toISOString(),
    pids_stats: { current: stats.pids },
    blkio_stats: { io_service_bytes_recursive: [blkio('read', stats.blockRead), blkio('write', stats.blockWrite)] },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu(stats.cpu.after, stats.cpu.systemAfter),
    precpu_stats: cpu(stats.cpu.before, stats.cpu.systemBefore),
    memory_stats: stats.memoryLimit > 0 ? { usage: stats.memoryUsage, stats: {}, limit: stats.memoryLimit } : {},
    networks: { eth0: { rx_bytes: stats.netRx, rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_bytes: stats.netTx, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } },
  };
}

async function stats(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const id = (await ctx.nbox.containerRecord(ctx.params.id)).config.id;
  const reading = async (intervalMs?: number) => statsJson((await ctx.nbox.containerStats([id], { intervalMs }))[0]);
  if (!flag(ctx.query, 'stream', true) || flag(ctx.query, 'one-shot')) {
    sendJson(res, 200, await reading());
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  let gone = false;
  res.once('close', () => (gone = true));
  // A line a second while the client stays; a container that is not running gets its zeros once, as Docker's.
  while (!gone) {
    const record = await ctx.nbox.containerRecord(id).catch(() => null);
    if (record === null) break;
    const line = await reading(STREAM_INTERVAL_MS);
    if (!gone) res.write(`${JSON.stringify(line)}\n`);
    if (stateName(record.state) !== 'running') break;
  }
  res.end();
}

async function update(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const body = await readJson<UpdateBody>(ctx.req);
  await ctx.nbox.updateContainer(ctx.params.id, { resources: resourcesOf(body), restart: restartPolicyOf(body.RestartPolicy) });
  sendJson(res, 200, { Warnings: [] });
}

/** commit is `docker commit`: POST /commit?container=…&repo=…&tag=…, with the changes as `changes` lines. */
async function commit(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const container = ctx.query.get('container');
  if (!container) throw new EngineError(400, 'container is required');
  const repo = ctx.query.get('repo');
  const tag = ctx.query.get('tag');
  const id = await ctx.nbox.commitContainer(container, {
    reference: repo ? `${repo}${tag ? `:${tag}` : ''}` : undefined,
    message: ctx.query.get('comment') ?? undefined,
    author: ctx.query.get('author') ?? undefined,
    pause: flag(ctx.query, 'pause', true),
    changes: ctx.query.getAll('changes').flatMap((text) => text.split('\n')).filter((line) => line.trim() !== ''),
  });
  ctx.state.emit('container', 'commit', container, { comment: ctx.query.get('comment') ?? '' });
  sendJson(res, 201, { Id: id });
}

/** addContainerStatsRoutes adds stats, update and commit. */
export function addContainerStatsRoutes(routes: Routes<Handler>): void {
  routes
    .add('GET', '/containers/{id}/stats', stats)
    .add('POST', '/containers/{id}/update', update)
    .add('POST', '/commit', commit);
}
