// testcontainers-node's own cleanup against `nbox serve`: its Ryuk reaper, from
// the image scripts/seed-images.sh makes (native/ryuk.c), removes a killed test
// process's containers and networks, then itself. This file's default bridge
// and subnet are its own; its end removes what a failed test left.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

import { Wait } from '../../src/api';
import { serveEngine } from '../../src/engine/server';
import { until } from '../helpers/detached';
import { fileScope, rootTest, sharedTestStore } from '../helpers/env';
import { removeTestBridge } from '../helpers/host-network';

const test = rootTest();
const scope = fileScope(test);
const store = sharedTestStore(test);
const BRIDGE = `nbr${process.pid % 100000}`;
process.env.NBOX_BRIDGE = BRIDGE;
process.env.NBOX_BRIDGE_SUBNET = `10.92.${100 + ((process.pid + 75) % 150)}.0/24`;
const REPO = join(__dirname, '../../..');
let socket: string;

test.before(async () => {
  socket = join(dirname(store.root), 'engine.sock');
  const server = await serveEngine(store.nbox, { socket });
  scope.teardown(async () => {
    for (const c of await store.nbox.listContainers({ all: true })) await store.nbox.removeContainer(c.config.id, { force: true }).catch(() => {});
    for (const n of await store.nbox.networks.list()) if (n.Labels?.['org.testcontainers'] === 'true') await store.nbox.networks.remove(n.Id).catch(() => {});
    await server.close();
  });
  execFileSync(join(REPO, 'scripts/seed-images.sh'), ['ryuk'], { env: { ...process.env, NBOX_ROOT: store.root }, stdio: 'ignore' });
});

test.after.always(() => removeTestBridge(BRIDGE));

test("a killed test process's containers and network are removed by testcontainers' Ryuk, which then goes too", async (t) => {
  const session = spawn(process.execPath, [join(REPO, 'test/helpers/testcontainers-session.mjs')], {
    cwd: REPO,
    env: { ...process.env, DOCKER_HOST: `unix://${socket}`, TESTCONTAINERS_RYUK_DISABLED: 'false', TESTCONTAINERS_RYUK_RECONNECTION_TIMEOUT: '1s' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => void session.kill('SIGKILL'));
  const [line] = (await once(createInterface({ input: session.stdout! }), 'line')) as [string];
  const started = JSON.parse(line) as { container: string; network: string };
  const names = async () => (await store.nbox.listContainers({ all: true })).map((c) => c.config.imageRef).sort();
  t.deepEqual(await names(), ['bb:latest', 'testcontainers/ryuk:0.14.0']);
  // Alive, the session keeps its container past the reconnection timeout.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.deepEqual(await names(), ['bb:latest', 'testcontainers/ryuk:0.14.0']);
  session.kill('SIGKILL');
  await until('the session reaped', async () => ((await names()).length === 0 ? true : undefined), 20000);
  t.false((await store.nbox.networks.list()).some((n) => n.Id === started.network), 'its network is gone');
  await t.throwsAsync(store.nbox.containerRecord(started.container), { code: 'ERR_NBOX_NO_SUCH_CONTAINER' } as object);
});

// Sends lines to the reaper on 127.0.0.1:port and reads an ACK for each; end: the one-off style, no newline, no ACK.
async function tell(port: number, lines: string[], end?: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let acks = '';
  socket.on('data', (chunk: Buffer) => (acks += chunk.toString()));
  for (const line of lines) socket.write(`${line}\r\n`);
  await until('the ACKs', () => (acks.length >= lines.length * 4 ? true : undefined), 5000);
  if (end === undefined) socket.end();
  else socket.end(end);
  await once(socket, 'close');
  return acks;
}

test("Ryuk's protocol: an ACK per filter line, the labels of one line all required, a one-off client's last line taken", async (t) => {
  const labelled = async (labels: Record<string, string>) => (await store.nbox.create('bb', { cmd: ['true'], labels })).id;
  const both = await labelled({ 'ryuk.a': '1', 'ryuk.b': '2' });
  const onlyA = await labelled({ 'ryuk.a': '1' });
  const oneOff = await labelled({ 'ryuk.c': 'x y' });
  const reaper = await store.nbox.run('testcontainers/ryuk:0.14.0', {
    ports: [8080], volumes: [{ source: socket, target: '/var/run/docker.sock' }], env: ['RYUK_RECONNECTION_TIMEOUT=300ms'], autoRemove: true,
    wait: Wait.forLog('Started'),
  });
  const port = await reaper.port(8080);
  // A hostile line first: 800 distinct keys of quotes, each growing fivefold as filters JSON (its
  // buffer once overflowed). The reaper answers it and goes on.
  const char = (code: number) => String.fromCharCode(code).replace(/[%&+=]/, '"');
  const hostile = Array.from({ length: 800 }, (_, i) => `"${char(33 + (i % 90))}${char(33 + Math.trunc(i / 90))}=`).join('&');
  t.is(await tell(port, [hostile, 'label=ryuk.a=1&label=ryuk.b=2', 'label=ryuk.a=1&label=ryuk.b=2']), 'ACK\nACK\nACK\n');
  await tell(port, [], 'label=ryuk.c%3Dx+y');
  await until('the reaper done', async () => ((await store.nbox.listContainers({ all: true })).some((c) => c.config.id === reaper.id) ? undefined : true), 10000);
  const left = (await store.nbox.listContainers({ all: true })).map((c) => c.config.id);
  t.deepEqual([left.includes(both), left.includes(onlyA), left.includes(oneOff)], [false, true, false]);
  await store.nbox.removeContainer(onlyA);
});

test('Ryuk with every client slot taken leaves the next connection waiting without spinning on it', async (t) => {
  const reaper = await store.nbox.run('testcontainers/ryuk:0.14.0', {
    ports: [8080], volumes: [{ source: socket, target: '/var/run/docker.sock' }], env: ['RYUK_RECONNECTION_TIMEOUT=300ms'], autoRemove: true,
    wait: Wait.forLog('Started'),
  });
  const port = await reaper.port(8080);
  // Its 64 slots, and one more, which waits in the backlog.
  const clients = await Promise.all(Array.from({ length: 65 }, () => new Promise<Socket>((resolve, reject) => {
    const client = connect(port, '127.0.0.1', () => resolve(client)).once('error', reject);
  })));
  const pid = (await reaper.inspect()).State.Pid;
  // Fields 14 and 15 of /proc/PID/stat: user and system time, in clock ticks (100 a second).
  const cpuTicks = () => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ').slice(11, 13).reduce((sum, n) => sum + Number(n), 0);
  const before = cpuTicks();
  await sleep(1000);
  const used = cpuTicks() - before;
  t.true(used < 30, `${used} ticks of CPU in a second`);
  for (const client of clients) client.destroy();
  await until('the reaper done', async () => ((await store.nbox.listContainers({ all: true })).some((c) => c.config.id === reaper.id) ? undefined : true), 10000);
});
