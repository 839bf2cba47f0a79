// System endpoints: ping, version, info, disk usage and the event stream.
import { cpus, hostname, release, totalmem } from 'node:os';
import type { ServerResponse } from 'node:http';

import { VERSION, stateName, volumeInspect, type UsageItem } from '../api';
import { API_VERSION, MIN_API_VERSION, type RequestContext, type Routes, type Handler } from './router';
import { filterList, sendJson } from './http';
import { imageSummary } from './images';
import { containerSummary } from './containers';
import type { EngineEvent } from './state';

/** PING_HEADERS tell a client what it talks to; Builder-Version 1 asks for the classic builder, the one nbox speaks. */
const PING_HEADERS = {
  'API-Version': API_VERSION,
  'Builder-Version': '1',
  'Docker-Experimental': 'false',
  OSType: 'linux',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Pragma: 'no-cache',
};

async function ping(ctx: RequestContext, res: ServerResponse): Promise<void> {
  res.writeHead(200, { ...PING_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 });
  res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
}

async function version(_ctx: RequestContext, res: ServerResponse): Promise<void> {
  const details = { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: 'amd64', KernelVersion: release() };
  sendJson(res, 200, {
    Platform: { Name: 'nbox' },
    Components: [{ Name: 'Engine', Version: VERSION, Details: details }],
    Version: VERSION,
    ...details,
    GitCommit: '',
    GoVersion: `node ${process.version}`,
    BuildTime: '',
  });
}

async function info(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const containers = await ctx.nbox.listContainers({ all: true });
  const running = containers.filter((c) => stateName(c.state) === 'running').length;
  const paused = containers.filter((c) => stateName(c.state) === 'paused').length;
  sendJson(res, 200, {
    ID: '',
    Containers: containers.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: containers.length - running - paused,
    Images: (await ctx.nbox.images({ all: true })).length,
    Driver: 'overlay2',
    DriverStatus: [],
    DockerRootDir: ctx.nbox.root,
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Log: ['json-file'] },
    MemoryLimit: true,
    SwapLimit: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    OomKillDisable: true,
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    KernelVersion: release(),
    OperatingSystem: 'nbox',
    OSType: 'linux',
    Architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
    NCPU: cpus().length,
    MemTotal: totalmem(),
    Name: hostname(),
    Labels: [],
    ServerVersion: VERSION,
    DefaultRuntime: 'nbox',
    Runtimes: { nbox: { path: 'nbox' } },
    SecurityOptions: ['name=seccomp,profile=builtin', 'name=cgroupns'],
    RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: ['127.0.0.0/8'], Mirrors: [] },
    Swarm: { LocalNodeState: 'inactive', ControlAvailable: false, NodeID: '', NodeAddr: '' },
    ExperimentalBuild: false,
    Debug: false,
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Warnings: [],
  });
}

/** diskUsage is `docker system df`'s document: the library's usage, item by item, in Docker's API types. */
async function diskUsage(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const [usage, volumeUsage, images, containers, volumes] = await Promise.all([
    ctx.nbox.diskUsage(), ctx.nbox.volumes.usage(), ctx.nbox.images(), ctx.nbox.listContainers({ all: true }), ctx.nbox.volumes.list(),
  ]);
  const byId = (items: UsageItem[]) => new Map(items.map((item) => [item.id, item]));
  const imageItems = byId(usage.images.items);
  const containerItems = byId(usage.containers.items);
  const volumeItems = byId(volumeUsage.items);
  const now = new Date();
  const rfc3339 = (date: Date | undefined) => (date ?? new Date(0)).toISOString();
  sendJson(res, 200, {
    LayersSize: usage.images.size,
    Images: images.map((image) => imageSummary(image, containers, imageItems.get(image.id)?.sharedSize)),
    Containers: containers.map((c) => {
      const item = containerItems.get(c.config.id);
      return containerSummary({ ...c, size: { rw: item?.size ?? 0, rootFs: item?.rootFsSize ?? 0 } }, now);
    }),
    Volumes: volumes.map((volume) => {
      const item = volumeItems.get(volume.name);
      return { ...volumeInspect(volume), UsageData: { Size: item?.size ?? -1, RefCount: item?.refCount ?? -1 } };
    }),
    BuildCache: usage.buildCache.items.map((item) => ({
      ID: item.id,
      Parents: null,
      Type: item.cacheType,
      Description: item.cacheType === 'exec.cachemount' ? `cached mount ${item.id}` : `build step ${item.id}`,
      InUse: false,
      Shared: false,
      Size: item.size,
      CreatedAt: rfc3339(item.created),
      LastUsedAt: rfc3339(item.lastUsed),
      UsageCount: 0,
    })),
  });
}

/** events streams what this server does from now on, one JSON document per line, until the client leaves
 * or `until` passes; `filters` narrows by type, event (action) and container. */
async function events(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const filters = filterList(ctx.query).map((f) => f.split('=', 2) as [string, string]);
  const wanted = (event: EngineEvent) =>
    ['type', 'event', 'container'].every((key) => {
      const values = filters.filter(([k]) => k === key).map(([, v]) => v);
      if (values.length === 0) return true;
      const actual = key === 'type' ? event.Type : key === 'event' ? event.Action : event.Actor.ID;
      return values.some((v) => v === actual || (key === 'container' && (actual.startsWith(v) || event.Actor.Attributes.name === v)));
    });
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  const listener = (event: EngineEvent) => {
    if (wanted(event)) res.write(`${JSON.stringify(event)}\n`);
  };
  ctx.state.events.on('event', listener);
  const until = Number(ctx.query.get('until') ?? NaN);
  const timer = Number.isFinite(until) ? setTimeout(() => res.end(), Math.max(0, until * 1000 - Date.now())) : undefined;
  await new Promise<void>((resolve) => res.once('close', resolve));
  clearTimeout(timer);
  ctx.state.events.off('event', listener);
}

/** addSystemRoutes adds the system endpoints. */
export function addSystemRoutes(routes: Routes<Handler>): void {
  routes
    .add('GET', '/_ping', ping)
    .add('GET', '/version', version)
    .add('GET', '/info', info)
    .add('GET', '/system/df', diskUsage)
    .add('GET', '/events', events);
}
