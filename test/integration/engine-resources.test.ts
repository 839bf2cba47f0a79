// `nbox serve`'s volumes, stats, update, commit and prunes, and its event
// stream seeing what other processes do to the store.
import { dirname, join } from 'node:path';

import { serveEngine, type EngineServer } from '../../src/engine/server';
import { firstLines, request } from '../helpers/engine-client';
import { cli, fileScope, rootTest, sharedTestStore } from '../helpers/env';
import { runDetached, runningState } from '../helpers/detached';

const test = rootTest();
const scope = fileScope(test);
const store = sharedTestStore(test);
let server: EngineServer;
let socket: string;

test.before(async () => {
  socket = join(dirname(store.root), 'engine-resources.sock');
  server = await serveEngine(store.nbox, { socket });
  scope.teardown(() => server.close());
});

const V = '/v1.50';
const json = <T>(body: string) => JSON.parse(body) as T;
const message = (body: string) => json<{ message: string }>(body).message;

async function created(body: object): Promise<string> {
  const reply = await request(socket, 'POST', `${V}/containers/create`, { Image: 'bb', ...body });
  if (reply.status !== 201) throw new Error(`create: ${reply.status} ${reply.body}`);
  return json<{ Id: string }>(reply.body).Id;
}

test('volumes: create, list with filters, inspect, in-use refusal, remove, prune', async (t) => {
  t.teardown(() => store.nbox.volumes.remove('api-vol', { force: true }));
  const made = await request(socket, 'POST', `${V}/volumes/create`, { Name: 'api-vol', Labels: { team: 'a' } });
  t.is(made.status, 201);
  t.like(json<object>(made.body), { Name: 'api-vol', Driver: 'local', Labels: { team: 'a' }, Scope: 'local' });
  t.regex(json<{ Name: string }>((await request(socket, 'POST', `${V}/volumes/create`, {})).body).Name, /^[0-9a-f]{64}$/);

  const byLabel = json<{ Volumes: Array<{ Name: string }> }>((await request(socket, 'GET', `${V}/volumes?filters=${encodeURIComponent('{"label":["team=a"]}')}`)).body);
  t.deepEqual(byLabel.Volumes.map((v) => v.Name), ['api-vol']);
  const badFilter = await request(socket, 'GET', `${V}/volumes?filters=${encodeURIComponent('{"colour":["red"]}')}`);
  t.deepEqual([badFilter.status, message(badFilter.body)], [400, "invalid filter 'colour'"]);

  t.is(json<{ Mountpoint: string }>((await request(socket, 'GET', `${V}/volumes/api-vol`)).body).Mountpoint.endsWith('/api-vol/_data'), true);
  const missing = await request(socket, 'GET', `${V}/volumes/nope`);
  t.deepEqual([missing.status, message(missing.body)], [404, 'get nope: no such volume']);

  const user = await created({ Cmd: ['true'], HostConfig: { Binds: ['api-vol:/data'] } });
  const inUse = await request(socket, 'DELETE', `${V}/volumes/api-vol`);
  t.is(inUse.status, 409);
  t.regex(message(inUse.body), /volume is in use/);
  await request(socket, 'DELETE', `${V}/containers/${user}`);
  t.is((await request(socket, 'DELETE', `${V}/volumes/api-vol`)).status, 204);
  t.is((await request(socket, 'GET', `${V}/volumes/api-vol`)).status, 404);

  // Prune takes an unused anonymous volume (a container's `-v /path`, kept by its rm without v); a named one only with all=true.
  await request(socket, 'POST', `${V}/volumes/create`, { Name: 'api-vol' });
  const holder = await created({ Cmd: ['true'], Volumes: { '/anon': {} } });
  const anonymous = json<{ Mounts: Array<{ Name: string; Destination: string }> }>((await request(socket, 'GET', `${V}/containers/${holder}/json`)).body).Mounts.find((m) => m.Destination === '/anon')?.Name ?? '';
  t.regex(anonymous, /^[0-9a-f]{64}$/);
  await request(socket, 'DELETE', `${V}/containers/${holder}`);
  const pruned = json<{ VolumesDeleted: string[] }>((await request(socket, 'POST', `${V}/volumes/prune`)).body);
  t.true(pruned.VolumesDeleted.includes(anonymous));
  t.false(pruned.VolumesDeleted.includes('api-vol'));
  const all = json<{ VolumesDeleted: string[] }>((await request(socket, 'POST', `${V}/volumes/prune?filters=${encodeURIComponent('{"all":["true"]}')}`)).body);
  t.true(all.VolumesDeleted.includes('api-vol'));
});

interface Stats {
  id: string;
  name: string;
  read: string;
  preread: string;
  cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number; online_cpus: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number };
  memory_stats: { usage?: number; limit?: number };
  pids_stats: { current: number };
  blkio_stats: { io_service_bytes_recursive: Array<{ op: string }> };
  networks: Record<string, { rx_bytes: number }>;
}

test('stats: one reading with stream=false, a line a second while streaming, in Docker shape', async (t) => {
  const id = await created({ Cmd: ['sh', '-c', 'while :; do :; done'], HostConfig: { Memory: 64 << 20 } });
  t.teardown(async () => void (await request(socket, 'DELETE', `${V}/containers/${id}?force=1`)));
  await request(socket, 'POST', `${V}/containers/${id}/start`);
  const one = json<Stats>((await request(socket, 'GET', `${V}/containers/${id}/stats?stream=false`)).body);
  t.is(one.id, id);
  t.regex(one.name, /^\//);
  // One reading, no wait: precpu_stats are the container's at its start.
  t.true(one.cpu_stats.cpu_usage.total_usage > one.precpu_stats.cpu_usage.total_usage, 'a busy loop used CPU since its start');
  t.true(one.cpu_stats.system_cpu_usage > one.precpu_stats.system_cpu_usage);
  const startedAt = json<{ State: { StartedAt: string } }>((await request(socket, 'GET', `${V}/containers/${id}/json`)).body).State.StartedAt;
  t.true(Date.parse(one.preread) === Date.parse(startedAt) && Date.parse(one.read) > Date.parse(one.preread), `${one.preread} ${one.read}`);
  t.true(one.cpu_stats.online_cpus >= 1);
  t.is(one.memory_stats.limit, 64 << 20);
  t.true((one.memory_stats.usage ?? 0) > 0);
  t.true(one.pids_stats.current >= 1);
  t.deepEqual(one.blkio_stats.io_service_bytes_recursive.map((e) => e.op), ['read', 'write']);
  t.truthy(one.networks.eth0);

  const streamed = (await firstLines(socket, `${V}/containers/${id}/stats`, 2)).map((line) => json<Stats>(line));
  t.is(streamed.length, 2);
  t.true(streamed.every((s) => s.id === id));
  // The server goes on after the client hung up mid-stream.
  t.is((await request(socket, 'GET', `${V}/_ping`)).status, 200);
  t.is((await request(socket, 'GET', `${V}/containers/nope/stats?stream=false`)).status, 404);
});

test('update changes a running container\'s limits; commit makes an image of its layer', async (t) => {
  const id = await created({ Cmd: ['sh', '-c', 'echo committed > /marker; exec sleep 60'] });
  t.teardown(async () => void (await request(socket, 'DELETE', `${V}/containers/${id}?force=1`)));
  await request(socket, 'POST', `${V}/containers/${id}/start`);
  const updated = await request(socket, 'POST', `${V}/containers/${id}/update`, { Memory: 32 << 20, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } });
  t.deepEqual([updated.status, json(updated.body)], [200, { Warnings: [] }]);
  const inspected = json<{ HostConfig: { Memory: number; RestartPolicy: { Name: string; MaximumRetryCount: number } } }>((await request(socket, 'GET', `${V}/containers/${id}/json`)).body);
  t.is(inspected.HostConfig.Memory, 32 << 20);
  t.deepEqual(inspected.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  t.is((await request(socket, 'POST', `${V}/containers/${id}/update`, { Memory: 1024 })).status, 400);

  const commit = await request(socket, 'POST', `${V}/commit?container=${id}&repo=api-committed&tag=v1&comment=hi&changes=${encodeURIComponent('CMD ["cat", "/marker"]')}`);
  t.is(commit.status, 201);
  const imageId = json<{ Id: string }>(commit.body).Id;
  t.regex(imageId, /^sha256:[0-9a-f]{64}$/);
  t.teardown(async () => void (await request(socket, 'DELETE', `${V}/images/api-committed:v1?force=1`)));
  const image = json<{ Id: string; Comment: string; Config: { Cmd: string[] } }>((await request(socket, 'GET', `${V}/images/api-committed:v1/json`)).body);
  t.deepEqual([image.Id, image.Comment, image.Config.Cmd], [imageId, 'hi', ['cat', '/marker']]);
  t.is((await request(socket, 'POST', `${V}/commit?container=nope`)).status, 404);
  t.is((await request(socket, 'POST', `${V}/commit`)).status, 400);
});

test('images/prune removes the dangling images, with dangling=false the unused tagged ones too', async (t) => {
  const id = await created({ Cmd: ['true'] });
  t.teardown(async () => void (await request(socket, 'DELETE', `${V}/containers/${id}?force=1`)));
  const imageId = json<{ Id: string }>((await request(socket, 'POST', `${V}/commit?container=${id}&repo=api-prunable`)).body).Id;
  const dangling = json<{ ImagesDeleted: unknown[] }>((await request(socket, 'POST', `${V}/images/prune`)).body);
  t.false(JSON.stringify(dangling.ImagesDeleted).includes(imageId), 'a tagged image is no dangling one');
  const all = await request(socket, 'POST', `${V}/images/prune?filters=${encodeURIComponent('{"dangling":["false"]}')}`);
  const deleted = json<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }>; SpaceReclaimed: number }>(all.body);
  t.true(deleted.ImagesDeleted.some((e) => e.Untagged === 'api-prunable:latest'));
  t.true(deleted.ImagesDeleted.some((e) => e.Deleted === imageId));
  t.is((await request(socket, 'GET', `${V}/images/bb/json`)).status, 200, 'an image a container uses stays');
  t.is((await request(socket, 'POST', `${V}/images/prune?filters=${encodeURIComponent('{"until":["1h"]}')}`)).status, 400);
});

test('events show what the CLI does to containers while the server runs: create, start, die, destroy', async (t) => {
  const events = request(socket, 'GET', `${V}/events?until=${Math.floor(Date.now() / 1000) + 8}&filters=${encodeURIComponent('{"type":["container"]}')}`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const id = await runDetached(t, store.root, ['--name', 'evented', 'bb', 'sleep', '60']);
  await runningState(store.root, id);
  t.is((await cli(store.root, ['stop', '-t', '0', id])).code, 0);
  t.is((await cli(store.root, ['rm', id])).code, 0);
  const seen = (await events).body.trim().split('\n').map((line) => json<{ Action: string; Actor: { ID: string; Attributes: Record<string, string> } }>(line)).filter((e) => e.Actor.ID === id);
  t.deepEqual(seen.map((e) => e.Action), ['create', 'start', 'die', 'destroy']);
  t.is(seen[0].Actor.Attributes.name, 'evented');
  t.is(seen[2].Actor.Attributes.exitCode, '137');
});
