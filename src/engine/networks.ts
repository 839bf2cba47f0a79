// Network endpoints: the networks a container can join (bridge, host, none), as
// `docker network ls/inspect` and testcontainers (which reads the bridge's
// gateway) ask for them. User networks are not there yet.
import type { ServerResponse } from 'node:http';

import { defaultBridge } from '../api';
import type { RequestContext, Routes, Handler } from './router';
import { EngineError, sendJson } from './http';

function networks(): Array<Record<string, unknown>> {
  const bridge = defaultBridge();
  const entry = (name: string, driver: string, config: Array<Record<string, string>>) => ({
    Name: name,
    Id: name,
    Created: '0001-01-01T00:00:00Z',
    Scope: 'local',
    Driver: driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: config },
    Internal: false,
    Attachable: false,
    Ingress: false,
    Containers: {},
    Options: driver === 'bridge' ? { 'com.docker.network.bridge.name': bridge.bridge } : {},
    Labels: {},
  });
  return [entry('bridge', 'bridge', [{ Subnet: bridge.subnet, Gateway: bridge.gateway }]), entry('host', 'host', []), entry('none', 'null', [])];
}

async function list(_ctx: RequestContext, res: ServerResponse): Promise<void> {
  sendJson(res, 200, networks());
}

async function inspect(ctx: RequestContext, res: ServerResponse): Promise<void> {
  const found = networks().find((network) => network.Name === ctx.params.id);
  if (!found) throw new EngineError(404, `network ${ctx.params.id} not found`);
  sendJson(res, 200, found);
}

/** addNetworkRoutes adds the network endpoints. */
export function addNetworkRoutes(routes: Routes<Handler>): void {
  routes.add('GET', '/networks', list).add('GET', '/networks/{id}', inspect);
}
