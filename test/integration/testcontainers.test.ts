// testcontainers-node, unchanged, against `nbox serve`: a GenericContainer with
// a published port and wait strategies, exec, copy both ways, and its cleanup.
import { dirname, join } from 'node:path';

import { serveEngine } from '../../src/engine/server';
import { fileScope, makeRootfs, rootTest, sharedTestStore, tarOf } from '../helpers/env';

const test = rootTest();
const scope = fileScope(test);
const store = sharedTestStore(test);

test.before(async () => {
  const socket = join(dirname(store.root), 'engine.sock');
  const server = await serveEngine(store.nbox, { socket });
  scope.teardown(() => server.close());
  // testcontainers reads these when it first looks for a runtime; Ryuk's image lives on Docker Hub.
  process.env.DOCKER_HOST = `unix://${socket}`;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  // An httpd image with a page to serve.
  const rootfs = await makeRootfs(join(dirname(store.root), 'web'));
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(join(rootfs, 'www'));
  await writeFile(join(rootfs, 'www', 'index.html'), 'hello\n');
  await store.nbox.importImage(tarOf(rootfs), { tags: ['web:latest'], changes: ['EXPOSE 80', 'CMD ["httpd", "-f", "-p", "80", "-h", "/www"]'] });
});

test('a GenericContainer with a port and an HTTP wait, exec, copy in and out, logs, stop', async (t) => {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('web:latest').withExposedPorts(80).withWaitStrategy(Wait.forHttp('/index.html', 80)).start();
  t.teardown(async () => void (await container.stop().catch(() => {})));
  const page = await fetch(`http://${container.getHost()}:${container.getMappedPort(80)}/index.html`);
  t.is(await page.text(), 'hello\n');
  const result = await container.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
  t.deepEqual([result.exitCode, result.stdout, result.stderr], [3, 'out\n', 'err\n']);
  await container.copyContentToContainer([{ content: 'copied in', target: '/www/copied.txt' }]);
  t.is(await (await fetch(`http://${container.getHost()}:${container.getMappedPort(80)}/copied.txt`)).text(), 'copied in');
  const archive = await container.copyArchiveFromContainer('/www/copied.txt');
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  t.true(Buffer.concat(chunks).includes('copied in'));
  const id = container.getId();
  await container.stop();
  t.is((await store.nbox.listContainers({ all: true })).filter((c) => c.config.id === id).length, 0, 'stop removes it, as testcontainers asks');
});

test('a log wait, and a container that never logs it fails the start', async (t) => {
  const { GenericContainer, Wait } = await import('testcontainers');
  const ready = await new GenericContainer('bb').withCommand(['sh', '-c', 'echo booting; sleep 0.3; echo ready; exec sleep 60']).withWaitStrategy(Wait.forLogMessage('ready')).start();
  await ready.stop();
  await t.throwsAsync(new GenericContainer('bb').withCommand(['sh', '-c', 'echo never; exec sleep 60']).withWaitStrategy(Wait.forLogMessage('ready')).withStartupTimeout(1500).start());
  t.pass();
});
