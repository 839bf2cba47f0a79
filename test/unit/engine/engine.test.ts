import test from 'ava';

import { createOptions } from '../../../src/engine/create-config';
import { goFileMode } from '../../../src/engine/container-files';
import { frame } from '../../../src/engine/frames';
import { Routes, splitVersion } from '../../../src/engine/router';
import { EngineError } from '../../../src/engine/http';
import { EngineState } from '../../../src/engine/state';

test('a create body becomes run options as Docker reads it', (t) => {
  const { image, options } = createOptions({
    Image: 'bb',
    Cmd: ['echo', 'hi'],
    Entrypoint: ['sh', '-c'],
    Env: ['A=b'],
    Tty: true,
    OpenStdin: true,
    Healthcheck: { Test: ['CMD', 'true'], Interval: 2e9, Retries: 2 },
    HostConfig: { Binds: ['/srv/data:/data:ro', '/srv/logs:/logs'], AutoRemove: true, NetworkMode: 'default', RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } },
  });
  t.is(image, 'bb');
  t.like(options, { cmd: ['echo', 'hi'], entrypoint: ['sh', '-c'], env: ['A=b'], tty: true, interactive: true, autoRemove: true, network: 'bridge', restart: 'on-failure:3' });
  t.deepEqual(options.mounts?.map((m) => [m.type, m.source, m.target, m.readonly]), [
    ['bind', '/srv/data', '/data', true],
    ['bind', '/srv/logs', '/logs', false],
  ]);
  t.like(options.healthcheck, { test: ['CMD', 'true'], interval: 2e9, retries: 2 });
});

test('HostConfig limits, security options, named volumes and Mounts pass to run under its names', (t) => {
  const { options } = createOptions({
    Image: 'bb',
    HostConfig: {
      Memory: 64 << 20, NanoCpus: 5e8, PidsLimit: 50, Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }],
      CapAdd: ['NET_ADMIN'], CapDrop: ['ALL'], ReadonlyRootfs: true, Sysctls: { 'net.ipv4.ip_forward': '1' },
      Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/n', CgroupPermissions: 'rw' }],
      Binds: ['data:/var/lib/data'], Mounts: [{ Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 1 << 20 } }],
    },
  });
  t.deepEqual(options.resources, { memory: 64 << 20, nanoCpus: 5e8, pidsLimit: 50, ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }] });
  t.like(options, { capAdd: ['NET_ADMIN'], capDrop: ['ALL'], readOnly: true, sysctls: ['net.ipv4.ip_forward=1'], devices: ['/dev/null:/dev/n:rw'] });
  t.deepEqual(options.mounts?.map((m) => [m.type, m.source, m.target]), [['volume', 'data', '/var/lib/data'], ['tmpfs', '', '/scratch']]);
  t.throws(() => createOptions({ Image: 'bb', HostConfig: { Binds: ['./rel:/x'] } }), { instanceOf: EngineError });
});

test('PortBindings become -p values as the docker CLI would have written them', (t) => {
  const { options } = createOptions({
    Image: 'bb',
    HostConfig: {
      PortBindings: {
        '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }], '443/tcp': null,
        '81/tcp': [{ HostIp: '0.0.0.0', HostPort: '81' }, { HostIp: '::1', HostPort: '81' }],
      },
      PublishAllPorts: true,
    },
  });
  t.deepEqual(options.publish, ['8080:80/tcp', '127.0.0.1::53/udp', '443/tcp', '0.0.0.0:81:81/tcp', '[::1]:81:81/tcp']);
  t.true(options.publishAll);
});

test("the docker CLI's --entrypoint \"\" clears the image's; no Entrypoint keeps it", (t) => {
  t.is(createOptions({ Image: 'bb', Entrypoint: [''] }).options.entrypoint, '');
  t.is(createOptions({ Image: 'bb', Entrypoint: null }).options.entrypoint, undefined);
  t.is(createOptions({ Image: 'bb', Entrypoint: [] }).options.entrypoint, undefined);
  t.deepEqual(createOptions({ Image: 'bb', Healthcheck: { Test: ['NONE'] } }).options.healthcheck, { disable: true });
});

test('a create body without an image is refused', (t) => {
  const refused = (body: object) => t.throws(() => createOptions(body as never), { instanceOf: EngineError });
  refused({});
});

test('versioned paths: the prefix goes, a version outside 1.24–1.50 is refused', (t) => {
  t.is(splitVersion('/v1.41/containers/json'), '/containers/json');
  t.is(splitVersion('/_ping'), '/_ping');
  t.throws(() => splitVersion('/v1.23/info'), { message: /too old. Minimum supported API version is 1.24/ });
  t.throws(() => splitVersion('/v1.51/info'), { message: /too new. Maximum supported API version is 1.50/ });
});

test('routes match params, image names with slashes, HEAD as GET, and tell a wrong method from no route', (t) => {
  const routes = new Routes<string>().add('GET', '/images/{name*}/json', 'inspect').add('POST', '/containers/{id}/start', 'start');
  t.deepEqual(routes.match('GET', '/images/127.0.0.1:5000/a/b:1/json'), { handler: 'inspect', params: { name: '127.0.0.1:5000/a/b:1' } });
  t.deepEqual(routes.match('HEAD', '/images/bb/json'), { handler: 'inspect', params: { name: 'bb' } });
  t.deepEqual(routes.match('POST', '/containers/abc/start'), { handler: 'start', params: { id: 'abc' } });
  t.is(routes.match('GET', '/containers/abc/start'), 'method');
  t.is(routes.match('POST', '/containers/a/b/start'), null);
});

test("modes go out as Go's os.FileMode, which the docker CLI reads", (t) => {
  t.is(goFileMode(0o100644), 0o644);
  t.is(goFileMode(0o040755), 2 ** 31 + 0o755);
  t.is(goFileMode(0o120777), 2 ** 27 + 0o777);
  t.is(goFileMode(0o104755), 2 ** 23 + 0o755);
});

test('frames carry the stream and a big-endian size', (t) => {
  t.deepEqual([...frame(2, Buffer.from('ab'))], [2, 0, 0, 0, 0, 0, 0, 2, 0x61, 0x62]);
});

test("a create body's StopSignal and StopTimeout become the container's stop options; null or empty is the default", (t) => {
  t.like(createOptions({ Image: 'bb', StopSignal: 'SIGUSR1', StopTimeout: 3 }).options, { stopSignal: 'SIGUSR1', stopTimeout: 3 });
  const plain = createOptions({ Image: 'bb', StopSignal: '', StopTimeout: null }).options;
  t.deepEqual([plain.stopSignal, plain.stopTimeout], [undefined, undefined]);
});

test('a wait for a start ends when its client goes, or when the container is removed; a removal drops its execs', async (t) => {
  // A check that never says started: without the endings these waits would poll forever.
  const state = new EngineState();
  let checks = 0;
  const never = async () => (checks++, false);
  const client = new AbortController();
  const abandoned = state.whenStarted('c1', never, client.signal);
  client.abort(new Error('client gone'));
  await t.throwsAsync(abandoned, { message: 'client gone' });
  const afterAbort = checks;

  const exec = state.newExec('c2', { Cmd: ['true'] });
  const other = state.newExec('c3', { Cmd: ['true'] });
  const waiting = state.whenStarted('c2', never, new AbortController().signal);
  state.removed('c2');
  await waiting;
  t.deepEqual([state.execs.has(exec.id), state.execs.has(other.id)], [false, true]);
  // Both polls are over: a check that ran after them would count here.
  await new Promise((resolve) => setTimeout(resolve, 250));
  t.is(checks, afterAbort);
});

test("ExposedPorts' keys become the ports -P publishes beside the image's", (t) => {
  t.deepEqual(createOptions({ Image: 'bb', ExposedPorts: { '80/tcp': {}, '53/udp': {} }, HostConfig: { PublishAllPorts: true } }).options.expose, ['80/tcp', '53/udp']);
});

test("a create body's HostConfig.Dns, DnsSearch and DnsOptions become the container's resolver settings", (t) => {
  t.like(createOptions({ Image: 'bb', HostConfig: { Dns: ['10.0.0.53'], DnsSearch: ['lan'], DnsOptions: ['ndots:2'] } }).options, { dns: ['10.0.0.53'], dnsSearch: ['lan'], dnsOptions: ['ndots:2'] });
});
