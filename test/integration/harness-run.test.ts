// run() in a test harness's form: a container started in the background under its
// monitor, ports published, files copied in before it starts, readiness under one
// deadline; the Container's port/host/ip, readFile/writeFile, and build from a
// Dockerfile given as text.
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { NboxError, Wait, WaitError, WaitTimeoutError } from '../../src/api';
import { freePort } from '../helpers/host-network';
import { fileScope, rootTest, sharedTestStore, writeContext } from '../helpers/env';

const test = rootTest();
const scope = fileScope(test);
const store = sharedTestStore(test);

async function names(): Promise<string[]> {
  return (await store.nbox.listContainers({ all: true })).map((c) => c.config.name);
}

const HTTPD = 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html';

test('ports: published on the host ports asked for or chosen; port(), host and ip reach the container with fetch', async (t) => {
  const fixed = await freePort();
  await using c = await store.nbox.run('bb', {
    cmd: ['sh', '-c', `${HTTPD} && httpd -h /www -p 8080 && exec httpd -f -h /www -p 80`],
    ports: { 80: 0, '8080/tcp': fixed },
    wait: [Wait.forHttp('/', { port: 80 }), Wait.forPort(8080)],
    deadline: 60_000,
  });
  const hello = `hello from ${c.id.slice(0, 12)}\n`;
  t.is(c.host, '127.0.0.1');
  t.is(await c.port('8080/tcp'), fixed);
  t.not(await c.port(80), 0);
  t.is(await (await fetch(`http://${c.host}:${await c.port(80)}/`)).text(), hello);
  t.is(await (await fetch(`http://${c.host}:${fixed}/`)).text(), hello);
  const ip = await c.ip();
  t.is(ip, (await c.inspect()).NetworkSettings.Networks.bridge.IPAddress);
  t.is(await (await fetch(`http://${ip}:80/`)).text(), hello, 'the container address answers on the container port');
  await t.throwsAsync(c.port(443), { message: /no public port '443\/tcp' published/ });
});

test('ports as a list each get a free host port; a bad one is refused with Docker\'s message and leaves nothing', async (t) => {
  await using c = await store.nbox.run('bb', { cmd: ['sh', '-c', `${HTTPD} && exec httpd -f -h /www -p 80`], ports: [80], wait: Wait.forPort(80) });
  t.is((await fetch(`http://${c.host}:${await c.port(80)}/`)).status, 200);
  const before = await names();
  await t.throwsAsync(store.nbox.run('bb', { cmd: ['true'], ports: [0] }), { message: 'invalid containerPort: 0' });
  t.deepEqual(await names(), before);
});

test('files: content and host files are in place, with their modes, before the command starts', async (t) => {
  const hostDir = await writeContext(t, { 'tool.sh': '#!/bin/sh\necho tool ran\n' });
  await chmod(join(hostDir, 'tool.sh'), 0o750);
  await using c = await store.nbox.run('bb', {
    cmd: ['sh', '-c', 'cat /etc/app/app.conf; /opt/tool.sh; stat -c "%a %U" /etc/app/app.conf /opt/tool.sh; exec sleep 60'],
    files: [
      { target: '/etc/app/app.conf', content: 'setting=1\n', mode: 0o600 },
      { target: '/opt/tool.sh', source: join(hostDir, 'tool.sh') },
    ],
    wait: Wait.forLog('750 root'),
  });
  const lines: string[] = [];
  for await (const entry of c.logs()) lines.push(entry.line);
  t.deepEqual(lines, ['setting=1', 'tool ran', '600 root', '750 root']);
  t.is((await c.readFile('/etc/app/app.conf')).toString(), 'setting=1\n');
  t.like(await c.exec(['stat', '-c', '%a', '/etc', '/etc/app']), { stdout: '755\n755\n' }, 'a directory made for a file is 0755, one there is left as it was');
});

test('files: a host file that is missing fails the run and leaves no container', async (t) => {
  const before = await names();
  await t.throwsAsync(store.nbox.run('bb', { cmd: ['true'], files: [{ target: '/x', source: '/nonexistent/file' }] }), { message: 'files: no such host file: /nonexistent/file' });
  await t.throwsAsync(store.nbox.run('bb', { cmd: ['true'], files: [{ target: 'relative', content: 'x' }] }), { message: /absolute path/ });
  t.deepEqual(await names(), before);
});

test('wait with a deadline: a strategy that never holds removes the container, and the error names it with the last log lines', async (t) => {
  const err = await t.throwsAsync(store.nbox.run('bb', {
    name: 'never-ready',
    cmd: ['sh', '-c', 'echo booting; echo warming up >&2; exec sleep 60'],
    wait: [Wait.forLog('listening on'), Wait.forExec(['true'])],
    deadline: 1500,
  }), { instanceOf: WaitTimeoutError });
  t.regex(err?.message ?? '', /^container not ready after 1500 ms: still waiting for log line listening on\n/);
  t.regex(err?.message ?? '', /last log lines:\nstdout: booting\nstderr: warming up/);
  t.false((await names()).includes('never-ready'));

  const exited = await t.throwsAsync(store.nbox.run('bb', { name: 'quits', cmd: ['sh', '-c', 'echo giving up; exit 3'], wait: Wait.forLog('ready') }), { instanceOf: WaitError });
  t.regex(exited?.message ?? '', /waiting for log line ready failed: container exited before its log showed log line ready/);
  t.regex(exited?.message ?? '', /stdout: giving up/);
  t.false((await names()).includes('quits'));
});

test('a container writing 5 MB that nobody reads runs to its end: its output is in the monitor\'s log', async (t) => {
  await using c = await store.nbox.run('bb', {
    network: 'none',
    // 50000 lines of 100 bytes.
    cmd: ['sh', '-c', 'yes 012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678 | head -n 50000; touch /done; exec sleep 60'],
    wait: Wait.forExec(['test', '-e', '/done']),
    deadline: 120_000,
  });
  let lines = 0;
  for await (const batch of c.logs().batches()) lines += batch.length;
  t.is(lines, 50000);
});

test('readFile and writeFile: binary data and modes both ways; a directory is no file', async (t) => {
  await using c = await store.nbox.run('bb', { cmd: ['sleep', '60'], network: 'none' });
  const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
  await c.writeFile('/tmp/blob.bin', data, { mode: 0o640 });
  t.true((await c.readFile('/tmp/blob.bin')).equals(data));
  t.like(await c.exec(['stat', '-c', '%a %s', '/tmp/blob.bin']), { exitCode: 0, stdout: '640 70000\n' });
  await c.exec(['sh', '-c', 'echo from inside > /tmp/inside; ln -s /tmp/inside /tmp/link']);
  t.is((await c.readFile('/tmp/link')).toString(), 'from inside\n', 'a link is followed inside the container');
  await c.writeFile('/tmp/inside', 'replaced\n');
  t.is((await c.exec(['cat', '/tmp/inside'])).stdout, 'replaced\n');
  await t.throwsAsync(c.readFile('/tmp'), { instanceOf: NboxError, message: '/tmp is not a regular file' });
  await t.throwsAsync(c.readFile('/nonexistent'), { instanceOf: NboxError });
});

test('attack: a symlink in the container naming a host path makes readFile and writeFile touch the container, never the host', async (t) => {
  const hostDir = await mkdtemp(join(tmpdir(), 'nbox-hostside-'));
  scope.teardown(() => rm(hostDir, { recursive: true, force: true }));
  await writeFile(join(hostDir, 'secret'), 'host secret\n');
  await using c = await store.nbox.run('bb', { cmd: ['sleep', '60'], network: 'none' });
  t.is((await c.exec(['sh', '-c', `ln -s ${hostDir} /escape; ln -s ${hostDir}/secret /secret-link; ln -s / /rootlink`])).exitCode, 0);

  await t.throwsAsync(c.readFile('/secret-link'), { instanceOf: NboxError });
  await t.throwsAsync(c.readFile('/escape/secret'), { instanceOf: NboxError });
  await t.throwsAsync(c.readFile(`/rootlink/rootlink${hostDir}/secret`), { instanceOf: NboxError });

  await c.writeFile('/escape/planted', 'x').catch(() => {});
  await c.writeFile(`/rootlink${hostDir}/planted`, 'x').catch(() => {});
  await c.writeFile('/secret-link', 'overwritten\n');
  t.deepEqual((await readdir(hostDir)).sort(), ['secret']);
  t.is(await readFile(join(hostDir, 'secret'), 'utf8'), 'host secret\n');
  t.is((await c.exec(['cat', '/secret-link'])).stdout, 'overwritten\n', 'the link itself was replaced in the container');
});

test('build from a Dockerfile given as text: without a context (an empty one), and with one', async (t) => {
  const id = await store.nbox.build({ dockerfile: 'FROM bb\nRUN echo built from text > /b\n', tags: ['text:1'] });
  t.is((await store.nbox.image('text:1')).id, id);
  const context = await writeContext(t, { 'f.txt': 'from the context\n', Dockerfile: 'FROM bb\nRUN false\n' });
  await store.nbox.build({ context, dockerfile: 'FROM text:1\nCOPY f.txt /f.txt\n', tags: ['text:2'] });
  await using c = await store.nbox.run('text:2', { cmd: ['sleep', '60'], network: 'none' });
  t.is((await c.readFile('/b')).toString(), 'built from text\n');
  t.is((await c.readFile('/f.txt')).toString(), 'from the context\n');
  await t.throwsAsync(store.nbox.build({ dockerfile: 'FROM bb\nCOPY missing /m\n' }), { message: /missing/ });
  await t.throwsAsync(store.nbox.build({ context, dockerfile: 'FROM bb\n', file: 'Dockerfile' }), { message: /cannot be combined/ });
});

test('build with buildArgs and a target stage, as --build-arg and --target', async (t) => {
  const dockerfile = 'FROM bb AS first\nARG GREETING=unset\nRUN echo $GREETING > /g\nFROM bb AS second\nRUN echo second > /g\n';
  await store.nbox.build({ dockerfile, buildArgs: { GREETING: 'hello-arg' }, target: 'first', tags: ['staged:first'] });
  await using c = await store.nbox.run('staged:first', { cmd: ['sleep', '60'], network: 'none' });
  t.is((await c.readFile('/g')).toString(), 'hello-arg\n');
  await t.throwsAsync(store.nbox.build({ dockerfile, target: 'third' }), { message: /target stage "?third"? could not be found/ });
});
