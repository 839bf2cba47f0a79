// Network endpoints: list, inspect, create, remove, prune, connect and
// disconnect, over the library's `networks` (the predefined bridge, host and
// none, and the user networks of the store).
import type { ServerResponse } from 'node:http';

import type { RequestContext, Routes, Handler } from './router';
import type { EndpointConfig } from './create-config';
import { EngineError, filterList, readJson, sendEmpty, sendJson } from './http';

async function list(ctx: RequestContext, res: ServerResponse): Promise<void> {
  sendJson(res, 200, await ctx.nbox.networks.list({ filters: filterList(ctx.query) }));
}

async function inspect(ctx: RequestContext, res: ServerResponse): Promise<void> {
  sendJson(res, 200, await ctx.nbox.networks.inspect(ctx.params.id));
}

/** CreateBody is Docker's network create body, the part nbox reads. */
interface CreateBody {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> | null } | null;
  Labels?: Record<string, string> | null;
}

async function create(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const body = await readJson<CreateBody>(ctx.req);
  if (!body.Name) throw new EngineError(400, 'network name is required');
  if (body.EnableIPv6) throw new EngineError(400, 'IPv6 networks are not supported by nbox');
  const pools = body.IPAM?.Config ?? [];
  if (pools.length > 1) throw new EngineError(400, 'nbox networks take one IPv4 subnet');
  if (pools[0]?.IPRange) throw new EngineError(400, 'IPAM IPRange is not supported by nbox');
  const network = await ctx.nbox.networks.create({
    name: body.Name, driver: body.Driver || 'bridge', internal: body.Internal ?? false, labels: body.Labels ?? {},
    ...(pools[0]?.Subnet ? { subnet: pools[0].Subnet } : {}), ...(pools[0]?.Gateway ? { gateway: pools[0].Gateway } : {}),
  });
  sendJson(res, 201, { Id: network.id, Warning: '' });
}

async function remove(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const ref = ctx.params.id;
  if (['bridge', 'host', 'none'].includes(ref)) throw new EngineError(403, `${ref} is a pre-defined network and cannot be removed`);
  await ctx.nbox.networks.remove(ref);
  sendEmpty(res, 204);
}

async function prune(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const { deleted } = await ctx.nbox.networks.prune({ filters: filterList(ctx.query) });
  sendJson(res, 200, { NetworksDeleted: deleted });
}

async function connect(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const body = await readJson<{ Container?: string; EndpointConfig?: EndpointConfig | null }>(ctx.req);
  if (!body.Container) throw new EngineError(400, 'container is required');
  await ctx.nbox.networks.connect(ctx.params.id, body.Container, {
    aliases: body.EndpointConfig?.Aliases ?? [], ...(body.EndpointConfig?.IPAMConfig?.IPv4Address ? { ip: body.EndpointConfig.IPAMConfig.IPv4Address } : {}),
  });
  sendEmpty(res, 200);
}

async function disconnect(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const body = await readJson<{ Container?: string; Force?: boolean }>(ctx.req);
  if (!body.Container) throw new EngineError(400, 'container is required');
  await ctx.nbox.networks.disconnect(ctx.params.id, body.Container);
  sendEmpty(res, 200);
}

/** addNetworkRoutes adds the network endpoints. */
export function addNetworkRoutes(routes: Routes<Handler>): void {
  routes
    .add('GET', '/networks', list)
    .add('POST', '/networks/create', create)
    .add('POST', '/networks/prune', prune)
    .add('GET', '/networks/{id}', inspect)
    .add('DELETE', '/networks/{id}', remove)
    .add('POST', '/networks/{id}/connect', connect)
    .add('POST', '/networks/{id}/disconnect', disconnect);
}
