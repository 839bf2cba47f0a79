// Container endpoints: create, list, inspect and the lifecycle verbs.
import type { ServerResponse } from 'node:http';

import { containerMounts, listedCommand, networkSettings, psStatus, stateName, type ContainerSize, type ListedContainer } from '../api';
import type { RequestContext, Routes, Handler } from './router';
import { EngineError, filterList, flag, readJson, sendEmpty, sendJson } from './http';
import { createOptions, type CreateBody } from './create-config';

async function create(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const body = await readJson<CreateBody>(ctx.req);
  const { image, options } = createOptions(body);
  const name = ctx.query.get('name');
  if (name) options.name = name.replace(/^\//, '');
  const autoRemove = options.autoRemove ?? false;
  const container = await ctx.nbox.create(image, { ...options, autoRemove: false });
  if (autoRemove) ctx.state.autoRemove.add(container.id);
  sendJson(res, 201, { Id: container.id, Warnings: [] });
}

/** containerSummary is a container as `/containers/json` (and `/system/df`) gives it; its sizes when it has them. */
export function containerSummary(c: ListedContainer, now: Date): Record<string, unknown> {
  const { config, state } = c;
  const settings = networkSettings(c);
  return {
    Id: config.id,
    Names: [`/${config.name}`],
    Image: config.imageRef,
    ImageID: config.image,
    Command: listedCommand(config.argv),
    Created: Math.floor(Date.parse(config.created) / 1000),
    Ports: summaryPorts(settings.Ports),
    ...(c.size ? sizeFields(c.size) : {}),
    Labels: config.labels,
    State: stateName(state),
    Status: psStatus(state, now),
    HostConfig: { NetworkMode: config.network },
    NetworkSettings: { Networks: settings.Networks },
    Mounts: containerMounts(c),
  };
}

/** sizeFields are a container's SizeRw and SizeRootFs, each left out when 0, as Docker's omitempty leaves them. */
function sizeFields(size: ContainerSize): { SizeRw?: number; SizeRootFs?: number } {
  return { ...(size.rw > 0 ? { SizeRw: size.rw } : {}), ...(size.rootFs > 0 ? { SizeRootFs: size.rootFs } : {}) };
}

async function list(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const limit = Number(ctx.query.get('limit') ?? -1);
  const containers = await ctx.nbox.listContainers({
    all: flag(ctx.query, 'all'),
    filters: filterList(ctx.query),
    last: Number.isInteger(limit) && limit > 0 ? limit : undefined,
    size: flag(ctx.query, 'size'),
  });
  const now = new Date();
  sendJson(res, 200, containers.map((c) => containerSummary(c, now)));
}

async function inspect(ctx: RequestContext, res: ServerResponse): Promise<void> {
  sendJson(res, 200, await ctx.nbox.inspectContainer(ctx.params.id, { size: flag(ctx.query, 'size') }));
}

async function start(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const record = await ctx.nbox.containerRecord(ctx.params.id);
  if (record.state.status === 'running') return sendEmpty(res, 304);
  await ctx.nbox.startContainer(record.config.id);
  ctx.state.started(record.config.id);
  if (ctx.state.autoRemove.has(record.config.id)) removeAtEnd(ctx, record.config.id);
  sendEmpty(res, 204);
}

/** removeAtEnd removes an AutoRemove container once it ends (whoever stops it), keeping its code.
 * Its die and destroy reach /events from the store, as every container's. */
function removeAtEnd(ctx: RequestContext, id: string): void {
  ctx.nbox.waitContainer(id).then(
    async (code) => {
      if (!ctx.state.autoRemove.has(id)) return;
      ctx.state.exitCodes.set(id, code);
      ctx.state.autoRemove.delete(id);
      // Long enough for any wait on it to read the code.
      setTimeout(() => ctx.state.exitCodes.delete(id), 60_000).unref();
      await ctx.nbox.removeContainer(id, { force: true });
    },
    () => {},
  ).catch(() => {
    // Removed meanwhile by someone else (a DELETE, a reaper): nothing is left to do, and the server serves on.
  });
}

/** timeout reads `t`, a stop timeout in seconds (-1: wait forever, as Docker). */
function timeout(query: URLSearchParams): number | undefined {
  const value = query.get('t');
  if (value === null || value === '') return undefined;
  const seconds = Number(value);
  if (!Number.isInteger(seconds)) throw new EngineError(400, `invalid value for t: ${value}`);
  return seconds;
}

async function stop(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const record = await ctx.nbox.containerRecord(ctx.params.id);
  if (record.state.status !== 'running' && record.state.status !== 'restarting') return sendEmpty(res, 304);
  await ctx.nbox.stopContainer(record.config.id, { timeout: timeout(ctx.query), signal: ctx.query.get('signal') || undefined });
  ctx.state.emit('container', 'stop', record.config.id, { name: record.config.name });
  sendEmpty(res, 204);
}

async function restart(ctx: RequestContext, res: ServerResponse): Promise<void> {
  await ctx.nbox.restartContainer(ctx.params.id, { timeout: timeout(ctx.query), signal: ctx.query.get('signal') || undefined });
  ctx.state.emit('container', 'restart', ctx.params.id);
  sendEmpty(res, 204);
}

async function kill(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const record = await ctx.nbox.containerRecord(ctx.params.id);
  if (record.state.status !== 'running') throw new EngineError(409, `Cannot kill container: ${ctx.params.id}: container ${record.config.id} is not running`);
  await ctx.nbox.killContainer(record.config.id, ctx.query.get('signal') || 'KILL');
  ctx.state.emit('container', 'kill', record.config.id, { name: record.config.name });
  sendEmpty(res, 204);
}

async function pause(ctx: RequestContext, res: ServerResponse): Promise<void> {
  await ctx.nbox.pauseContainer(ctx.params.id);
  sendEmpty(res, 204);
}

async function unpause(ctx: RequestContext, res: ServerResponse): Promise<void> {
  await ctx.nbox.unpauseContainer(ctx.params.id);
  sendEmpty(res, 204);
}

async function remove(ctx: RequestContext, res: ServerResponse): Promise<void> {
  ctx.state.removed(await ctx.nbox.removeContainer(ctx.params.id, { force: flag(ctx.query, 'force') }));
  sendEmpty(res, 204);
}

async function rename(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const name = ctx.query.get('name');
  if (!name) throw new EngineError(400, 'name is required');
  await ctx.nbox.renameContainer(ctx.params.id, name.replace(/^\//, ''));
  sendEmpty(res, 204);
}

async function top(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const psArgs = ctx.query.get('ps_args');
  const { titles, processes } = await ctx.nbox.topContainer(ctx.params.id, psArgs ? psArgs.split(/\s+/).filter(Boolean) : undefined);
  sendJson(res, 200, { Titles: titles, Processes: processes });
}

async function changes(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const kinds = { C: 0, A: 1, D: 2 } as const;
  sendJson(res, 200, (await ctx.nbox.diffContainer(ctx.params.id)).map((change) => ({ Path: change.path, Kind: kinds[change.kind] })));
}

async function prune(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const { deleted, spaceReclaimed } = await ctx.nbox.pruneContainers();
  sendJson(res, 200, { ContainersDeleted: deleted, SpaceReclaimed: spaceReclaimed });
}

/** addContainerRoutes adds create, list, inspect and the lifecycle verbs. */
export function addContainerRoutes(routes: Routes<Handler>): void {
  routes
    .add('POST', '/containers/create', create)
    .add('GET', '/containers/json', list)
    .add('POST', '/containers/prune', prune)
    .add('GET', '/containers/{id}/json', inspect)
    .add('POST', '/containers/{id}/start', start)
    .add('POST', '/containers/{id}/stop', stop)
    .add('POST', '/containers/{id}/restart', restart)
    .add('POST', '/containers/{id}/kill', kill)
    .add('POST', '/containers/{id}/pause', pause)
    .add('POST', '/containers/{id}/unpause', unpause)
    .add('POST', '/containers/{id}/rename', rename)
    .add('GET', '/containers/{id}/top', top)
    .add('GET', '/containers/{id}/changes', changes)
    .add('DELETE', '/containers/{id}', remove);
}

// summaryPorts are a listed container's Ports, from its NetworkSettings.Ports as the daemon makes them: a port
// exposed and not published has no address or host port.
function summaryPorts(ports: Record<string, { HostIp: string; HostPort: string }[] | null>): Record<string, unknown>[] {
  return Object.entries(ports).flatMap(([key, bindings]) => {
    const [number, type] = key.split('/');
    if (!bindings?.length) return [{ PrivatePort: Number(number), Type: type }];
    return bindings.map((binding) => ({ IP: binding.HostIp, PrivatePort: Number(number), PublicPort: Number(binding.HostPort), Type: type }));
  });
}
