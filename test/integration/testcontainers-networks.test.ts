// testcontainers-node's Network, unchanged, against `nbox serve`: two
// GenericContainers on one network, one reaching the other by its alias.
// The default bridge (which testcontainers starts an aliased container on
// before it connects it) is this file's own, and the file's end removes the
// links, tables and lease files a failed test left.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { serveEngine } from '../../src/engine/server';
import { fileScope, rootTest, sharedTestStore } from '../helpers/env';

const test = rootTest();
const scope = fileScope(test);
const store = sharedTestStore(test);
const BRIDGE = `nbn${process.pid % 100000}`;
process.env.NBOX_BRIDGE = BRIDGE;
process.env.NBOX_BRIDGE_SUBNET = `10.91.${100 + ((process.pid + 75) % 150)}.0/24`;
const STATE = '/run/nbox/networks';
const bridges = new Set<string>([BRIDGE]);

test.before(async () => {
  const socket = join(dirname(store.root), 'engine.sock');
  const server = await serveEngine(store.nbox, { socket });
  scope.teardown(() => server.close());
  process.env.DOCKER_HOST = `unix://${socket}`;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
});

test.after.always(() => {
  for (const bridge of bridges) {
    for (const name of existsSync(STATE) ? readdirSync(STATE) : []) {
      if (!name.startsWith(bridge)) continue;
      quiet('umount', ['-l', `${STATE}/${name}`]);
      rmSync(`${STATE}/${name}`, { force: true });
    }
    quiet('ip', ['link', 'del', bridge]);
    quiet('nft', ['delete', 'table', 'ip', bridge === BRIDGE ? `nbox_${BRIDGE}` : `nbox_${bridge.slice('nbox-'.length)}`]);
  }
});

function quiet(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
  } catch {
    // Gone already.
  }
}

test('new Network().start(), a container with an alias on it, another reaching it by that alias; stop removes the network', async (t) => {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const network = await new Network().start();
  const id = network.getId();
  bridges.add(`nbox-${id.slice(0, 10)}`);
  t.teardown(async () => void (await network.stop().catch(() => {})));
  const server = await new GenericContainer('bb')
    .withNetwork(network).withNetworkAliases('backend')
    .withCommand(['sh', '-c', 'mkdir /www && echo from-backend > /www/index.html && echo ready && exec httpd -f -p 8080 -h /www'])
    .withWaitStrategy(Wait.forLogMessage('ready')).start();
  t.teardown(async () => void (await server.stop().catch(() => {})));
  const client = await new GenericContainer('bb').withNetwork(network).withCommand(['sleep', '600']).start();
  t.teardown(async () => void (await client.stop().catch(() => {})));
  const fetched = await client.exec(['wget', '-q', '-O', '-', 'http://backend:8080/index.html']);
  t.deepEqual([fetched.exitCode, fetched.output], [0, 'from-backend\n']);
  const inspect = await store.nbox.networks.inspect(id);
  t.is(Object.keys(inspect.Containers).length, 2);
  await client.stop();
  await server.stop();
  await network.stop();
  await t.throwsAsync(store.nbox.networks.inspect(id), { message: /not found/ });
});
