// Volume endpoints (`docker volume …`): list with filters, create, inspect,
// remove and prune, over the library's volumes.
import type { ServerResponse } from 'node:http';

import { volumeInspect } from '../api';
import type { RequestContext, Routes, Handler } from './router';
import { EngineError, filterList, flag, readJson, sendEmpty, sendJson } from './http';

async function list(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const volumes = await ctx.nbox.volumes.list({ filters: filterList(ctx.query) });
  sendJson(res, 200, { Volumes: volumes.map(volumeInspect), Warnings: [] });
}

interface CreateBody {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

async function create(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const body = await readJson<CreateBody>(ctx.req);
  // Docker's local driver takes mount options (type, device, o); nbox's volumes are plain directories.
  if (body.DriverOpts && Object.keys(body.DriverOpts).length > 0) throw new EngineError(400, 'volume driver options are not supported');
  const record = await ctx.nbox.volumes.create({ name: body.Name || undefined, driver: body.Driver || undefined, labels: body.Labels ?? undefined });
  ctx.state.emit('volume', 'create', record.name, { driver: record.driver });
  sendJson(res, 201, volumeInspect(record));
}

async function inspect(ctx: RequestContext, res: ServerResponse): Promise<void> {
  sendJson(res, 200, await ctx.nbox.volumes.inspect(ctx.params.name));
}

async function remove(ctx: RequestContext, res: ServerResponse): Promise<void> {
  await ctx.nbox.volumes.remove(ctx.params.name, { force: flag(ctx.query, 'force') });
  ctx.state.emit('volume', 'destroy', ctx.params.name);
  sendEmpty(res, 204);
}

async function prune(ctx: RequestContext, res: ServerResponse): Promise<void> {
  // API 1.42+: an `all=true` filter prunes named volumes too; the library reads it.
  const result = await ctx.nbox.volumes.prune({ filters: filterList(ctx.query) });
  for (const name of result.deleted) ctx.state.emit('volume', 'destroy', name);
  sendJson(res, 200, { VolumesDeleted: result.deleted, SpaceReclaimed: result.spaceReclaimed });
}

/** addVolumeRoutes adds the volume endpoints. */
export function addVolumeRoutes(routes: Routes<Handler>): void {
  routes
    .add('GET', '/volumes', list)
    .add('POST', '/volumes/create', create)
    .add('POST', '/volumes/prune', prune)
    .add('GET', '/volumes/{name}', inspect)
    .add('DELETE', '/volumes/{name}', remove);
}
