// `nbox serve`: the Docker Engine API on a unix socket, driven as the docker
// CLI and dockerode drive it (and by the docker CLI itself where installed).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';

import { serveEngine, type EngineServer } from '../../src/engine/server';
import { demux, hijack, request } from '../helpers/engine-client';
import { hostHasIpv6 } from '../helpers/host-network';
import { fileScope, makeRootfs, optionalTest, rootTest, sharedTestStore, spawnCli, tarOf, writeContext } from '../helpers/env';
import { until } from '../helpers/detached';

const test = rootTest();
const scope = fileScope(test);
const store = sharedTestStore(test);
let server: EngineServer;
let socket: string;

test.before(async () => {
  socket = join(dirname(store.root), 'engine.sock');
  server = await serveEngine(store.nbox, { socket });
  scope.teardown(() => server.close());
});

const V = '/v1.50';
const json = <T>(body: string) => JSON.parse(body) as T;

async function created(body: object): Promise<string> {
  const reply = await request(socket, 'POST', `${V}/containers/create`, { Image: 'bb', ...body });
  if (reply.status !== 201) throw new Error(`create: ${reply.status} ${reply.body}`);
  return json<{ Id: string }>(reply.body).Id;
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('the socket is root-only (0660) and answers ping with the API version', async (t) => {
  t.is(statSync(socket).mode & 0o777, 0o660);
  const ping = await request(socket, 'HEAD', '/_ping');
  t.is(ping.status, 200);
  t.is(ping.headers['api-version'], '1.50');
  t.is((await request(socket, 'GET', `${V}/_ping`)).body, 'OK');
  t.is(json<{ ApiVersion: string }>((await request(socket, 'GET', `${V}/version`)).body).ApiVersion, '1.50');
});

test("bad requests get Docker's status and a one-line message, and the server goes on", async (t) => {
  const old = await request(socket, 'GET', '/v1.12/version');
  t.deepEqual([old.status, json<{ message: string }>(old.body).message], [400, 'client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version']);
  const unknown = await request(socket, 'GET', `${V}/containers/nope/json`);
  t.deepEqual([unknown.status, json<{ message: string }>(unknown.body).message], [404, 'No such container: nope']);
  const image = await request(socket, 'POST', `${V}/containers/create`, { Image: 'missing:1' });
  t.is(image.status, 404);
  const malformed = await request(socket, 'POST', `${V}/containers/create`, Buffer.from('{"Image": '));
  t.is(malformed.status, 400);
  t.regex(json<{ message: string }>(malformed.body).message, /^invalid JSON/);
  t.is((await request(socket, 'GET', `${V}/nothing/here`)).status, 404);
  // Fields of the wrong JSON type: Go's decoder's 400, never a TypeError's 500.
  for (const [body, message] of [
    [{ HostConfig: { Binds: 'x' } }, 'json: cannot unmarshal string into Go struct field HostConfig.Binds of type []string'],
    [{ HostConfig: { Mounts: ['x'] } }, 'json: cannot unmarshal array into Go struct field HostConfig.Mounts of type []struct'],
    [{ HostConfig: { PortBindings: { '80/tcp': 'x' } } }, 'json: cannot unmarshal object into Go struct field HostConfig.PortBindings of type nat.PortMap'],
    [{ Env: [1, 2] }, 'json: cannot unmarshal array into Go struct field Config.Env of type []string'],
  ] as const) {
    const reply = await request(socket, 'POST', `${V}/containers/create`, { Image: 'bb', ...body });
    t.deepEqual([reply.status, json<{ message: string }>(reply.body).message], [400, message]);
  }
  t.is((await request(socket, 'GET', `${V}/containers/%E0%A4%A/json`)).status, 400);
  // A hijacked request's body is bounded as any JSON body: a Content-Length is never an allocation.
  const hijacked = await new Promise<string>((resolve, reject) => {
    const conn = connect(socket, () => conn.write(`POST ${V}/exec/nope/start HTTP/1.1\r\nHost: x\r\nUpgrade: tcp\r\nConnection: Upgrade\r\nContent-Type: application/json\r\nContent-Length: 100000000000\r\n\r\n{`));
    let answer = '';
    conn.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1'))).on('end', () => resolve(answer)).on('error', reject);
  });
  t.regex(hijacked, /^HTTP\/1\.1 413 /);
  t.is((await request(socket, 'HEAD', '/_ping')).status, 200);
});

test('a seccomp profile comes as its JSON, as the docker CLI sends it: a host path in SecurityOpt is refused, never read', async (t) => {
  const dir = await writeContext(t, { 'profile.json': '{"defaultAction":"SCMP_ACT_ALLOW"}' });
  const path = join(dir, 'profile.json');
  const refused = await request(socket, 'POST', `${V}/containers/create`, { Image: 'bb', HostConfig: { SecurityOpt: [`seccomp=${path}`] } });
  t.deepEqual([refused.status, json<{ message: string }>(refused.body).message], [400, "Decoding seccomp profile failed: invalid character '/' looking for beginning of value"]);
  const inline = await request(socket, 'POST', `${V}/containers/create`, { Image: 'bb', HostConfig: { SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'] } });
  t.is(inline.status, 201, inline.body);
  t.is((await request(socket, 'DELETE', `${V}/containers/${json<{ Id: string }>(inline.body).Id}`)).status, 204);
});

test("a container's own PID, IPC and UTS namespaces: a mode that shares another's is refused, not ignored", async (t) => {
  for (const [field, mode] of [['PidMode', 'host'], ['IpcMode', 'host'], ['UTSMode', 'host'], ['PidMode', 'container:other']]) {
    const refused = await request(socket, 'POST', `${V}/containers/create`, { Image: 'bb', HostConfig: { [field]: mode } });
    t.deepEqual([refused.status, json<{ message: string }>(refused.body).message], [400, `${field} "${mode}" is not supported: a container has a namespace of its own`]);
  }
  const defaults = await request(socket, 'POST', `${V}/containers/create`, { Image: 'bb', HostConfig: { PidMode: '', IpcMode: 'private', UTSMode: '' } });
  t.is(defaults.status, 201, defaults.body);
  t.is((await request(socket, 'DELETE', `${V}/containers/${json<{ Id: string }>(defaults.body).Id}`)).status, 204);
});

test('run as the docker CLI runs it: attach before start loses no output, streams apart, --rm keeps the exit code', async (t) => {
  const id = await created({ Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], HostConfig: { AutoRemove: true } });
  const attached = hijack(socket, 'POST', `${V}/containers/${id}/attach?stream=1&stdout=1&stderr=1`);
  t.regex(await attached.upgraded, /^HTTP\/1.1 101 UPGRADED/);
  const waited = request(socket, 'POST', `${V}/containers/${id}/wait?condition=removed`);
  t.is((await request(socket, 'POST', `${V}/containers/${id}/start`)).status, 204);
  const streams = await attached.done;
  t.deepEqual([streams.stdout, streams.stderr], ['out\n', 'err\n']);
  t.deepEqual(json(((await waited).body)), { StatusCode: 3, Error: null });
  t.is((await request(socket, 'GET', `${V}/containers/${id}/json`)).status, 404);
});

test('an AutoRemove container removed by a DELETE while it runs: the server keeps serving', async (t) => {
  const id = await created({ Cmd: ['sleep', '60'], HostConfig: { AutoRemove: true } });
  t.is((await request(socket, 'POST', `${V}/containers/${id}/start`)).status, 204);
  // The server's own removal at the container's end then finds it gone: an unhandled rejection ended the server.
  t.is((await request(socket, 'DELETE', `${V}/containers/${id}?force=1`)).status, 204);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is((await request(socket, 'GET', `${V}/_ping`)).body, 'OK');
  t.is((await request(socket, 'GET', `${V}/containers/${id}/json`)).status, 404);
});

test("a container has its image's labels, its own over them, as Docker merges them", async (t) => {
  await store.nbox.importImage(tarOf(await makeRootfs(join(dirname(store.root), 'labelled'))), { tags: ['labelled:1'], changes: ['LABEL from.image=yes shared=image'] });
  const id = await created({ Image: 'labelled:1', Cmd: ['true'], Labels: { shared: 'container', own: '1' } });
  t.teardown(async () => void (await request(socket, 'DELETE', `${V}/containers/${id}?force=1`)));
  const labels = json<{ Config: { Labels: Record<string, string> } }>((await request(socket, 'GET', `${V}/containers/${id}/json`)).body).Config.Labels;
  t.deepEqual(labels, { 'from.image': 'yes', shared: 'container', own: '1' });
  const listed = json<{ Id: string }[]>((await request(socket, 'GET', `${V}/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: ['from.image=yes'] }))}`)).body);
  t.deepEqual(listed.map((c) => c.Id), [id]);
});

test('stdin through attach reaches the container, and the half-close is its EOF', async (t) => {
  const id = await created({ Cmd: ['cat'], OpenStdin: true, StdinOnce: true, AttachStdin: true });
  t.teardown(async () => void (await request(socket, 'DELETE', `${V}/containers/${id}?force=1`)));
  const attached = hijack(socket, 'POST', `${V}/containers/${id}/attach?stream=1&stdin=1&stdout=1&stderr=1`);
  await attached.upgraded;
  await request(socket, 'POST', `${V}/containers/${id}/start`);
  attached.write('piped\n');
  attached.end();
  t.is((await attached.done).stdout, 'piped\n');
  t.is(json<{ StatusCode: number }>((await request(socket, 'POST', `${V}/containers/${id}/wait`)).body).StatusCode, 0);
});

test('a detached container: list, logs framed by stream, exec with stdin and its exit code, stop, remove', async (t) => {
  const id = await created({ Cmd: ['sh', '-c', 'echo out; echo err >&2; exec sleep 60'], Labels: { role: 'svc' } });
  t.teardown(async () => void (await request(socket, 'DELETE', `${V}/containers/${id}?force=1`)));
  t.is((await request(socket, 'POST', `${V}/containers/${id}/start`)).status, 204);
  t.is((await request(socket, 'POST', `${V}/containers/${id}/start`)).status, 304);
  const listed = json<Array<{ Id: string; State: string; Status: string; Labels: Record<string, string> }>>((await request(socket, 'GET', `${V}/containers/json?filters=${encodeURIComponent('{"label":["role=svc"]}')}`)).body);
  t.deepEqual(listed.map((c) => [c.Id, c.State, c.Labels.role]), [[id, 'running', 'svc']]);
  t.regex(listed[0].Status, /^Up /);
  const logs = await until('both log lines', async () => {
    const reply = await request(socket, 'GET', `${V}/containers/${id}/logs?stdout=1&stderr=1`);
    const streams = demux(Buffer.from(reply.body, 'latin1'));
    return streams.stdout === 'out\n' && streams.stderr === 'err\n' ? streams : undefined;
  });
  t.deepEqual(logs, { stdout: 'out\n', stderr: 'err\n' });

  const exec = json<{ Id: string }>((await request(socket, 'POST', `${V}/containers/${id}/exec`, { Cmd: ['sh', '-c', 'cat; echo "$X" >&2; exit 5'], Env: ['X=from-env'], AttachStdin: true, AttachStdout: true, AttachStderr: true })).body).Id;
  const started = hijack(socket, 'POST', `${V}/exec/${exec}/start`, { Detach: false, Tty: false });
  await started.upgraded;
  started.write('input\n');
  started.end();
  const output = await started.done;
  t.deepEqual([output.stdout, output.stderr], ['input\n', 'from-env\n']);
  t.like(json<object>((await request(socket, 'GET', `${V}/exec/${exec}/json`)).body), { ExitCode: 5, Running: false, ContainerID: id });
  t.is((await request(socket, 'POST', `${V}/exec/${exec}/start`, { Detach: false })).status, 409);

  t.is((await request(socket, 'POST', `${V}/containers/${id}/stop?t=1`)).status, 204);
  t.is(json<{ State: { Status: string } }>((await request(socket, 'GET', `${V}/containers/${id}/json`)).body).State.Status, 'exited');
  t.is((await request(socket, 'POST', `${V}/containers/${id}/exec`, { Cmd: ['true'] })).status, 409);
  t.is((await request(socket, 'DELETE', `${V}/containers/${id}`)).status, 204);
});

test('archive: HEAD gives the path stat, PUT writes a tar in, GET reads it back', async (t) => {
  const id = await created({ Cmd: ['true'] });
  t.teardown(async () => void (await request(socket, 'DELETE', `${V}/containers/${id}?force=1`)));
  const dir = await writeContext(t, { 'note.txt': 'hello\n' });
  t.is((await request(socket, 'PUT', `${V}/containers/${id}/archive?path=/etc`, await collect(tarOf(dir, ['note.txt'])))).status, 200);
  const head = await request(socket, 'HEAD', `${V}/containers/${id}/archive?path=/etc/note.txt`);
  const stat = json<{ name: string; size: number; mode: number }>(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString('utf8'));
  t.deepEqual([stat.name, stat.size, stat.mode & 0o777], ['note.txt', 6, 0o644]);
  const dirStat = json<{ mode: number }>(Buffer.from(String((await request(socket, 'HEAD', `${V}/containers/${id}/archive?path=/etc`)).headers['x-docker-container-path-stat']), 'base64').toString('utf8'));
  t.true(dirStat.mode >= 2 ** 31, 'a directory carries Go ModeDir');
  const got = await request(socket, 'GET', `${V}/containers/${id}/archive?path=/etc/note.txt`);
  t.true(got.body.includes('hello\n'));
  t.is((await request(socket, 'HEAD', `${V}/containers/${id}/archive?path=/nope`)).status, 404);
});

test('build from a tar context streams Step lines and the image ID; a failing build ends in errorDetail', async (t) => {
  const good = await writeContext(t, { Dockerfile: 'FROM bb\nRUN echo built > /built; echo run-out; echo run-err >&2\nCMD ["cat", "/built"]\n' });
  const reply = await request(socket, 'POST', `${V}/build?t=engine-built&nocache=1`, await collect(tarOf(good)));
  const messages = reply.body.trim().split('\n').map((line) => json<{ stream?: string; aux?: { ID: string }; error?: string }>(line));
  // RUN's output comes between its Step line and the next, as the classic builder streams it.
  const texts = messages.map((m) => m.stream ?? '');
  const step = (prefix: string) => texts.findIndex((text) => text.startsWith(prefix));
  const output = texts.join('');
  t.true(output.includes('run-out\n') && output.includes('run-err\n'), output);
  const runOut = texts.findIndex((text) => text.startsWith('run-out'));
  t.true(step('Step 2/3 : RUN echo built > /built') < runOut && runOut < step('Step 3/3 :'), output);
  const id = messages.find((m) => m.aux)?.aux?.ID ?? '';
  t.regex(id, /^sha256:[0-9a-f]{64}$/);
  t.is(json<{ Id: string }>((await request(socket, 'GET', `${V}/images/engine-built/json`)).body).Id, id);

  const bad = await writeContext(t, { Dockerfile: 'FROM bb\nRUN exit 7\n' });
  const failed = (await request(socket, 'POST', `${V}/build`, await collect(tarOf(bad)))).body.trim().split('\n').map((line) => json<{ errorDetail?: { message: string } }>(line));
  t.regex(failed.at(-1)?.errorDetail?.message ?? '', /returned a non-zero code: 7/);
  // The Dockerfile is named inside the context: a host file, even a valid Dockerfile, is refused before it is read.
  const outside = await writeContext(t, { Dockerfile: 'FROM bb\nLABEL leaked=yes\n' });
  const escape = await request(socket, 'POST', `${V}/build?t=leaked&dockerfile=${encodeURIComponent(join(outside, 'Dockerfile'))}`, await collect(tarOf(good)));
  t.is(escape.status, 400);
  t.is((await request(socket, 'GET', `${V}/images/leaked/json`)).status, 404);
  t.is((await request(socket, 'POST', `${V}/build?dockerfile=../../etc/shadow`, await collect(tarOf(good)))).status, 400);
});

test('images: list, tag, inspect, history and remove', async (t) => {
  t.is((await request(socket, 'POST', `${V}/images/bb/tag?repo=engine/tagged&tag=v1`)).status, 201);
  const list = json<Array<{ RepoTags: string[] }>>((await request(socket, 'GET', `${V}/images/json`)).body);
  t.true(list.some((image) => image.RepoTags.includes('engine/tagged:v1')));
  t.is(json<{ RepoTags: string[] }>((await request(socket, 'GET', `${V}/images/engine/tagged:v1/json`)).body).RepoTags.includes('engine/tagged:v1'), true);
  t.true(json<unknown[]>((await request(socket, 'GET', `${V}/images/engine/tagged:v1/history`)).body).length > 0);
  t.deepEqual(json((await request(socket, 'DELETE', `${V}/images/engine/tagged:v1`)).body), [{ Untagged: 'engine/tagged:v1' }]);
});

test('events streams what the server does', async (t) => {
  const events = request(socket, 'GET', `${V}/events?until=${Math.floor(Date.now() / 1000) + 3}`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const id = await created({ Cmd: ['true'] });
  await request(socket, 'DELETE', `${V}/containers/${id}`);
  const actions = (await events).body.trim().split('\n').map((line) => json<{ Action: string; Actor: { ID: string } }>(line)).filter((e) => e.Actor.ID === id).map((e) => e.Action);
  t.deepEqual(actions, ['create', 'destroy']);
});

test("a create body's ExposedPorts are published by PublishAllPorts (docker run --expose 80 -P)", async (t) => {
  const id = await created({ Cmd: ['sleep', '60'], ExposedPorts: { '80/tcp': {} }, HostConfig: { PublishAllPorts: true } });
  t.teardown(async () => void (await request(socket, 'DELETE', `${V}/containers/${id}?force=1`)));
  // As the daemon's: a container's ports are listed while it runs.
  const before = json<Array<{ Id: string; Ports: unknown[] }>>((await request(socket, 'GET', `${V}/containers/json?all=1`)).body);
  t.deepEqual(before.find((c) => c.Id === id)?.Ports, []);
  t.is((await request(socket, 'POST', `${V}/containers/${id}/start`)).status, 204);
  const listed = json<Array<{ Id: string; Ports: Array<{ IP: string; PrivatePort: number; PublicPort: number; Type: string }> }>>((await request(socket, 'GET', `${V}/containers/json?all=1`)).body);
  const ports = listed.find((c) => c.Id === id)?.Ports ?? [];
  // On every IPv4 address and, where the host has IPv6, on every IPv6 one: one host port for both.
  t.deepEqual(ports.map((p) => [p.IP, p.PrivatePort, p.Type]), [['0.0.0.0', 80, 'tcp'], ...(hostHasIpv6() ? [['::', 80, 'tcp']] : [])]);
  t.true(ports[0].PublicPort > 0);
  t.true(ports.every((p) => p.PublicPort === ports[0].PublicPort));
});

test('system/df gives every image, container, volume and build cache entry in Docker\'s API shapes; containers/json its sizes when asked', async (t) => {
  await request(socket, 'POST', `${V}/volumes/create`, { Name: 'df-vol' });
  const id = await created({ Cmd: ['sh', '-c', 'echo data > /data/f; echo rw > /rw'], HostConfig: { Binds: ['df-vol:/data'] } });
  t.teardown(async () => {
    await request(socket, 'DELETE', `${V}/containers/${id}?force=1`);
    await request(socket, 'DELETE', `${V}/volumes/df-vol`);
  });
  await request(socket, 'POST', `${V}/containers/${id}/start`);
  await request(socket, 'POST', `${V}/containers/${id}/wait`);
  const cached = await writeContext(t, { Dockerfile: 'FROM bb\nRUN --mount=type=cache,target=/c echo x > /c/f\n' });
  await request(socket, 'POST', `${V}/build?t=df-built`, await collect(tarOf(cached)));
  t.teardown(async () => void (await request(socket, 'DELETE', `${V}/images/df-built`)));
  type Df = {
    Images: Array<{ RepoTags: string[]; Size: number; SharedSize: number; Containers: number }>;
    Containers: Array<{ Id: string; Command: string; Status: string; Created: number; SizeRw: number; SizeRootFs: number }>;
    Volumes: Array<{ Name: string; UsageData: { Size: number; RefCount: number } }>;
    BuildCache: Array<{ Type: string; Size: number; Shared: boolean }>;
  };
  const df = json<Df>((await request(socket, 'GET', `${V}/system/df`)).body);
  const bb = df.Images.find((image) => image.RepoTags.includes('bb:latest'));
  const built = df.Images.find((image) => image.RepoTags.includes('df-built:latest'));
  // The built image holds bb's layer, so each shares it with the other.
  t.true(bb !== undefined && built !== undefined && bb.SharedSize === bb.Size && built.SharedSize === bb.Size && built.Size > bb.Size);
  const container = df.Containers.find((c) => c.Id === id);
  // Its virtual size is its image's and its own, as Docker's daemon counts it.
  t.like(container, { Command: "sh -c 'echo data > /data/f; echo rw > /rw'", SizeRw: 3, SizeRootFs: (bb?.Size ?? 0) + 3 });
  t.regex(container?.Status ?? '', /^Exited \(0\) /);
  t.true((container?.Created ?? 0) > 1_600_000_000);
  t.deepEqual(df.Volumes.find((v) => v.Name === 'df-vol')?.UsageData, { Size: 5, RefCount: 1 });
  t.true(df.BuildCache.some((entry) => entry.Type === 'exec.cachemount' && entry.Size === 2 && !entry.Shared));
  t.true(df.BuildCache.some((entry) => entry.Type === 'regular'));

  type Listed = { Id: string; SizeRw?: number; SizeRootFs?: number; Mounts: object[]; NetworkSettings: { Networks: Record<string, object> } };
  const listed = async (query: string) => json<Listed[]>((await request(socket, 'GET', `${V}/containers/json?all=1${query}`)).body).find((c) => c.Id === id);
  t.like(await listed('&size=true'), { SizeRw: 3, SizeRootFs: (bb?.Size ?? 0) + 3 });
  // Without size=true the daemon leaves both out (omitempty), as it does a zero one.
  const unsized = await listed('');
  t.false(unsized !== undefined && ('SizeRw' in unsized || 'SizeRootFs' in unsized));
  t.like(unsized?.Mounts[0], { Type: 'volume', Name: 'df-vol', Destination: '/data', Driver: 'local', RW: true });
  t.deepEqual(Object.keys(unsized?.NetworkSettings.Networks ?? {}), ['bridge']);
});

/** streamOpen starts a streamed request and resolves once its body holds `text`; abandon() drops the connection. */
function streamOpen(path: string, text: string, body?: Buffer): Promise<{ abandon(): void }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: socket, method: body ? 'POST' : 'GET', path, headers: body ? { 'Content-Type': 'application/x-tar' } : {} }, (res) => {
      let seen = '';
      res.on('data', (chunk: Buffer) => {
        seen += chunk.toString('latin1');
        if (seen.includes(text)) resolve({ abandon: () => req.destroy() });
      });
      res.on('error', () => {});
      res.on('end', () => reject(new Error(`the stream ended without ${text}: ${seen}`)));
    });
    req.on('error', () => {});
    req.end(body);
  });
}

/** openFilesOf counts this process's fds open on a file whose path ends with `suffix` (the server runs in it). */
function openFilesOf(suffix: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).endsWith(suffix);
    } catch {
      return false;
    }
  }).length;
}

test('abandoned logs -f requests on a quiet running container free their log fds at once', async (t) => {
  const id = await created({ Cmd: ['sh', '-c', 'echo up; exec sleep 60'] });
  t.teardown(async () => void (await request(socket, 'DELETE', `${V}/containers/${id}?force=1`)));
  await request(socket, 'POST', `${V}/containers/${id}/start`);
  const followers = await Promise.all([1, 2, 3, 4].map(() => streamOpen(`${V}/containers/${id}/logs?follow=1&stdout=1`, 'up\n')));
  t.true(openFilesOf(`${id}-json.log`) >= 4);
  for (const follower of followers) follower.abandon();
  // Still running and quiet: only the client's going can end the follows.
  t.is(await until('the log fds closed', () => (openFilesOf(`${id}-json.log`) === 0 ? 0 : undefined)), 0);
  t.is(json<{ State: { Status: string } }>((await request(socket, 'GET', `${V}/containers/${id}/json`)).body).State.Status, 'running');
});

test("exec instances live as long as their container: removing it drops them, as Docker's daemon does", async (t) => {
  const id = await created({ Cmd: ['sleep', '60'] });
  await request(socket, 'POST', `${V}/containers/${id}/start`);
  const exec = json<{ Id: string }>((await request(socket, 'POST', `${V}/containers/${id}/exec`, { Cmd: ['true'] })).body).Id;
  t.is((await request(socket, 'POST', `${V}/exec/${exec}/start`, { Detach: false })).status, 200);
  t.is((await request(socket, 'GET', `${V}/exec/${exec}/json`)).status, 200);
  t.is((await request(socket, 'DELETE', `${V}/containers/${id}?force=1`)).status, 204);
  t.is((await request(socket, 'GET', `${V}/exec/${exec}/json`)).status, 404);
  t.false(server.state.execs.has(exec));
});

test('a build whose client goes is cancelled: its RUN is killed, nothing is tagged, its scratch space goes', async (t) => {
  const context = await writeContext(t, { Dockerfile: 'FROM bb\nRUN echo building; sleep 60\n' });
  const tmp = join(store.root, 'tmp');
  const before = new Set(readdirSync(tmp));
  const build = await streamOpen(`${V}/build?t=engine-abandoned&nocache=1`, 'building', await collect(tarOf(context)));
  build.abandon();
  // The build's scratch directory goes when buildImage returns: the build is over once it has. (What was there
  // before may be an earlier test's removed container, whose files are still being deleted.)
  await until('the build to end', () => (readdirSync(tmp).every((name) => before.has(name)) ? true : undefined));
  t.is((await request(socket, 'GET', `${V}/images/engine-abandoned/json`)).status, 404);
});

const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((path) => existsSync(path));
const dockerTest = optionalTest(test, DOCKER ? null : 'the docker CLI tests: no docker client on this machine');

dockerTest('the docker CLI works unchanged against `nbox serve`', async (t) => {
  const cliSocket = join(dirname(store.root), 'cli.sock');
  const served = spawnCli(store.root, ['serve', '--socket', cliSocket], { stdio: 'ignore' });
  t.teardown(() => void served.kill('SIGTERM'));
  await until('the socket', () => (existsSync(cliSocket) ? true : undefined));
  const docker = (args: string[], input?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(DOCKER as string, args, { env: { ...process.env, DOCKER_HOST: `unix://${cliSocket}`, DOCKER_CONFIG: dirname(store.root) } }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(input ?? '');
    });
  t.deepEqual(await docker(['run', '--rm', 'bb', 'sh', '-c', 'echo hi; exit 4']), { code: 4, stdout: 'hi\n', stderr: '' });
  t.is((await docker(['run', '--rm', '-i', '-e', 'A=b', '-w', '/etc', 'bb', 'sh', '-c', 'cat; echo $A; pwd'], 'in\n')).stdout, 'in\nb\n/etc\n');
  const id = (await docker(['run', '-d', 'bb', 'sh', '-c', 'trap "echo bye; exit 0" TERM; echo up; while true; do sleep 0.1; done'])).stdout.trim();
  t.teardown(async () => void (await docker(['rm', '-f', id])));
  t.regex((await docker(['ps', '--format', '{{.ID}} {{.Status}}'])).stdout, new RegExp(`^${id.slice(0, 12)} Up `, 'm'));
  t.deepEqual(await docker(['exec', id, 'sh', '-c', 'echo in-exec; exit 6']), { code: 6, stdout: 'in-exec\n', stderr: '' });
  t.is((await docker(['stop', id])).code, 0);
  t.is((await docker(['wait', id])).stdout, '0\n');
  t.is((await docker(['logs', id])).stdout, 'up\nbye\n');
  t.is((await docker(['rm', id])).code, 0);
});

