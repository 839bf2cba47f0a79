// User networks (`network create …`, `run --network NAME`): names between the
// containers of one network, isolation between networks, connect and
// disconnect, and Docker's refusals. This file's default bridge and subnets are
// its own (NBOX_BRIDGE*, 10.91.x; its networks 10.93.x), and its end removes whatever a failed test
// left: namespaces, links, tables, lease files.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';

import { cli, rootTest, sharedTestStore, spawnCli } from '../helpers/env';
import { until } from '../helpers/detached';

const test = rootTest();
const BRIDGE = `nbu${process.pid % 100000}`;
const OCTET = 100 + (process.pid % 150);
process.env.NBOX_BRIDGE = BRIDGE;
process.env.NBOX_BRIDGE_SUBNET = `10.91.${OCTET}.0/24`;
const STATE = '/run/nbox/networks';
// Each test's own subnet: test files and tests run side by side.
const subnet = (n: number) => `10.93.${(OCTET + n * 50) % 256}.0/24`;

const store = sharedTestStore(test);
// The bridges of every network this file made (their IDs' first ten digits name them).
const made = new Set<string>([BRIDGE]);

test.after.always(() => {
  for (const bridge of made) {
    for (const name of existsSync(STATE) ? readdirSync(STATE) : []) {
      if (!name.startsWith(bridge)) continue;
      quiet('umount', ['-l', `${STATE}/${name}`]);
      rmSync(`${STATE}/${name}`, { force: true });
    }
    quiet('ip', ['link', 'del', bridge]);
    quiet('nft', ['delete', 'table', 'ip', bridge === BRIDGE ? `nbox_${BRIDGE}` : `nbox_${bridge.slice('nbox-'.length)}`]);
  }
});

function quiet(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

async function nbox(...args: string[]) {
  return cli(store.root, args);
}

async function createNetwork(t: { teardown(fn: () => Promise<void>): void }, name: string, ...flags: string[]): Promise<string> {
  const created = await nbox('network', 'create', ...flags, name);
  if (created.code !== 0) throw new Error(created.stderr);
  const id = created.stdout.trim();
  made.add(`nbox-${id.slice(0, 10)}`);
  t.teardown(async () => void (await nbox('network', 'rm', '-f', name)));
  return id;
}

async function detached(t: { teardown(fn: () => Promise<void>): void }, name: string, ...args: string[]): Promise<void> {
  t.teardown(async () => void (await nbox('rm', '-f', name)));
  const run = await nbox('run', '-d', '--name', name, ...args, 'bb', 'sleep', '600');
  if (run.code !== 0) throw new Error(run.stderr);
}

test('containers on a user network reach each other by name, short ID and alias; other networks cannot reach them', async (t) => {
  await createNetwork(t, 'un-a', '--subnet', subnet(1), '--label', 'team=a');
  await createNetwork(t, 'un-b', '--subnet', subnet(2));
  await detached(t, 'un-web', '--network', 'un-a', '--network-alias', 'web');
  const id = (await nbox('inspect', '-f', '{{.Id}}', 'un-web')).stdout.trim();
  const address = JSON.parse((await nbox('inspect', '-f', '{{json .NetworkSettings.Networks}}', 'un-web')).stdout)['un-a'].IPAddress as string;
  t.true(address.startsWith(subnet(1).replace(/0\/24$/, '')), address);
  for (const name of ['un-web', id.slice(0, 12), 'web']) {
    const ping = await nbox('run', '--rm', '--network', 'un-a', 'bb', 'ping', '-c1', '-W2', name);
    t.is(ping.code, 0, `${name}: ${ping.stdout}${ping.stderr}`);
    t.true(ping.stdout.includes(`(${address})`), ping.stdout);
  }
  const across = await nbox('run', '--rm', '--network', 'un-b', 'bb', 'ping', '-c1', '-W2', address);
  t.is(across.code, 1, 'another user network is kept apart');
  const fromBridge = await nbox('run', '--rm', 'bb', 'ping', '-c1', '-W2', address);
  t.is(fromBridge.code, 1, 'the default bridge is kept apart');
  const inspect = JSON.parse((await nbox('network', 'inspect', 'un-a')).stdout)[0];
  t.is(inspect.Driver, 'bridge');
  t.deepEqual(inspect.IPAM.Config, [{ Subnet: subnet(1), Gateway: subnet(1).replace(/0\/24$/, '1') }]);
  t.deepEqual(inspect.Labels, { team: 'a' });
  t.is(inspect.Containers[id].Name, 'un-web');
  const ls = await nbox('network', 'ls', '--filter', 'label=team=a', '--format', '{{.Name}} {{.Driver}} {{.Scope}}');
  t.is(ls.stdout, 'un-a bridge local\n');
  t.is((await nbox('ps', '--filter', 'network=un-a', '--format', '{{.Names}}')).stdout, 'un-web\n');
});

test('connect puts a running container on another network under an alias, disconnect takes it off', async (t) => {
  await createNetwork(t, 'un-c', '--subnet', subnet(3));
  await createNetwork(t, 'un-d', '--subnet', subnet(4));
  await detached(t, 'un-app', '--network', 'un-c');
  await detached(t, 'un-db', '--network', 'un-d');
  t.is((await nbox('exec', 'un-db', 'ping', '-c1', '-W2', 'un-app')).code, 1);
  const connected = await nbox('network', 'connect', '--alias', 'api', 'un-d', 'un-app');
  t.is(connected.code, 0, connected.stderr);
  const ping = await nbox('exec', 'un-db', 'ping', '-c1', '-W2', 'api');
  t.is(ping.code, 0, ping.stdout + ping.stderr);
  t.regex((await nbox('exec', 'un-app', 'cat', '/etc/hosts')).stdout, /\tun-db /);
  const again = await nbox('network', 'connect', 'un-d', 'un-app');
  t.is(again.code, 1);
  t.is(again.stderr, 'nbox: endpoint with name un-app already exists in network un-d\n');
  t.is((await nbox('network', 'disconnect', 'un-d', 'un-app')).code, 0);
  t.is((await nbox('exec', 'un-db', 'ping', '-c1', '-W2', 'api')).code, 1, 'the name is gone');
  t.notRegex((await nbox('exec', 'un-app', 'ip', '-o', 'addr')).stdout, /eth1/);
});

test('Docker\'s refusals: a network in use, a name taken, an unknown network, aliases on the default bridge', async (t) => {
  await createNetwork(t, 'un-e', '--subnet', subnet(5));
  await detached(t, 'un-busy', '--network', 'un-e');
  const rm = await nbox('network', 'rm', 'un-e');
  t.is(rm.code, 1);
  t.regex(rm.stderr, /^nbox: error while removing network: network un-e has active endpoints \(name:"un-busy" id:"[0-9a-f]{12}"\)\n$/);
  const taken = await nbox('network', 'create', 'un-e');
  t.deepEqual([taken.code, taken.stderr], [1, 'nbox: network with name un-e already exists\n']);
  const overlap = await nbox('network', 'create', '--subnet', subnet(5), 'un-f');
  t.deepEqual([overlap.code, overlap.stderr], [1, 'nbox: invalid pool request: Pool overlaps with other one on this address space\n']);
  const predefined = await nbox('network', 'rm', 'bridge');
  t.deepEqual([predefined.code, predefined.stderr], [1, 'nbox: bridge is a pre-defined network and cannot be removed\n']);
  const unknown = await nbox('run', '--rm', '--network', 'un-nowhere', 'bb', 'true');
  t.deepEqual([unknown.code, unknown.stderr], [125, 'nbox: network un-nowhere not found\n']);
  const alias = await nbox('run', '--rm', '--network-alias', 'x', 'bb', 'true');
  t.deepEqual([alias.code, alias.stderr], [125, 'nbox: network-scoped aliases are only supported for user-defined networks\n']);
  t.is((await nbox('ps', '-a', '-q')).stdout.trim().split('\n').length, 1, 'no container made by a refused run');
  await nbox('rm', '-f', 'un-busy');
  const pruned = await nbox('network', 'prune', '-f');
  t.is(pruned.stdout, 'Deleted Networks:\nun-e\n\n');
  t.is((await nbox('network', 'ls', '-q')).stdout.trim().split('\n').length, 3, 'bridge, host and none stay');
});

test('the library: nbox.network() for a test, run on it with aliases, an --ip, disposed at the end', async (t) => {
  let name = '';
  {
    await using network = await store.nbox.network(undefined, { subnet: subnet(6) });
    name = network.name;
    made.add(`nbox-${network.id.slice(0, 10)}`);
    const ip = subnet(6).replace(/0\/24$/, '77');
    const server = await store.nbox.run('bb', { detach: true, cmd: ['sleep', '600'], network: network.name, networkAliases: ['db'], ip });
    t.teardown(() => store.nbox.removeContainer(server.id, { force: true }).catch(() => {}));
    const client = await store.nbox.run('bb', { cmd: ['sh', '-c', 'ping -c1 -W2 db'], network: network.name, stdio: 'pipe', autoRemove: true });
    let output = '';
    client.stdout!.on('data', (chunk: Buffer) => (output += chunk));
    t.is((await client.exited).exitCode, 0, output);
    t.true(output.includes(`(${ip})`), output);
    t.is((await store.nbox.networks.inspect(network.name)).Containers[server.id].IPv4Address, `${ip}/24`);
    await store.nbox.removeContainer(server.id, { force: true });
  }
  await t.throwsAsync(store.nbox.networks.inspect(name), { message: `network ${name} not found` });
});

test('a foreground nbox killed with SIGKILL leaves no lease, link or table of its user network after the next nbox', async (t) => {
  const id = await createNetwork(t, 'un-k', '--subnet', subnet(7));
  const bridge = `nbox-${id.slice(0, 10)}`;
  const child = spawnCli(store.root, ['run', '--name', 'un-killed', '--network', 'un-k', 'bb', 'sleep', '600']);
  t.teardown(async () => void (await nbox('rm', '-f', 'un-killed')));
  await until('the container on the network', async () => {
    const inspect = JSON.parse((await nbox('network', 'inspect', 'un-k')).stdout)[0];
    return Object.keys(inspect.Containers).length === 1 ? true : undefined;
  });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  // The next open sweeps what the dead nbox held.
  t.is(JSON.stringify(JSON.parse((await nbox('network', 'inspect', 'un-k')).stdout)[0].Containers), '{}');
  await until('the bridge and table to go', () => (quiet('ip', ['-o', 'link', 'show', bridge]) === '' && !quiet('nft', ['list', 'tables']).includes(`nbox_${id.slice(0, 10)}`) ? true : undefined), 15000);
  t.is((await nbox('network', 'rm', 'un-k')).code, 0);
});

test('--dns, --dns-search, --dns-option and --add-host reach /etc/resolv.conf and /etc/hosts on a user network and on the default bridge', async (t) => {
  await createNetwork(t, 'un-dns', '--subnet', subnet(8));
  for (const network of ['un-dns', 'bridge']) {
    const run = await nbox('run', '--rm', '--network', network, '--dns', '10.1.2.3', '--dns-search', 'example.test', '--dns-option', 'ndots:3', '--add-host', 'a.test:10.9.8.7',
      'bb', 'sh', '-c', 'cat /etc/resolv.conf; echo ---; cat /etc/hosts');
    t.is(run.code, 0, run.stderr);
    const [resolv, hosts] = run.stdout.split('---\n');
    t.deepEqual(resolv.split('\n').filter((line) => /^(nameserver|search|options)\s/.test(line)), ['nameserver 10.1.2.3', 'search example.test', 'options ndots:3'], network);
    t.regex(hosts, /^10\.9\.8\.7\ta\.test$/m, network);
  }
});

test('a newline (or a blank) in --add-host, --dns-search, --dns-option, --hostname or an alias, which would write lines of their own into /etc/hosts or /etc/resolv.conf, is refused before anything is made', async (t) => {
  await createNetwork(t, 'un-nl', '--subnet', subnet(18));
  const before = (await nbox('ps', '-aq')).stdout;
  const refused = async (args: string[], message: RegExp) => {
    const run = await nbox('run', '--rm', '--network', 'un-nl', ...args, 'bb', 'true');
    t.deepEqual([run.code, run.stdout], [125, ''], args.join(' '));
    t.regex(run.stderr, message);
    t.is(run.stderr.trim().split('\n').length, 1, run.stderr);
  };
  await refused(['--add-host', 'x\n6.6.6.6 evil:1.2.3.4'], /^nbox: invalid argument "x\\n6\.6\.6\.6 evil:1\.2\.3\.4" for "--add-host" flag: bad format for add-host/);
  await refused(['--dns-search', 'x\nnameserver 6.6.6.6'], /for "--dns-search" flag: "x\\nnameserver 6\.6\.6\.6" is not a valid domain/);
  await refused(['--dns-option', 'ndots:1\nnameserver 6.6.6.6'], /invalid argument "ndots:1\\nnameserver 6\.6\.6\.6" for "--dns-option" flag: no control character may appear in it/);
  await refused(['--hostname', 'x\ny'], /for "--hostname" flag: no blank or control character may appear in it/);
  await refused(['--network-alias', 'a\n6.6.6.6 evil'], /for "--network-alias" flag: no blank or control character may appear in it/);
  t.is((await nbox('ps', '-aq')).stdout, before);
  // A running container's peers are no way in either.
  t.teardown(async () => void (await nbox('rm', '-f', 'un-nl-peer')));
  t.is((await nbox('run', '-d', '--name', 'un-nl-peer', '--network', 'bridge', 'bb', 'sleep', '60')).code, 0);
  const connect = await nbox('network', 'connect', '--alias', 'b 6.6.6.6', 'un-nl', 'un-nl-peer');
  t.deepEqual([connect.code, connect.stderr.trim().split('\n').length], [1, 1], connect.stderr);
  t.regex(connect.stderr, /for "--alias" flag: no blank or control character may appear in it/);
});

test('a port published by a container on one network answers a container on another through its own gateway; direct traffic between them stays blocked', async (t) => {
  await createNetwork(t, 'un-pa', '--subnet', subnet(10));
  await createNetwork(t, 'un-pb', '--subnet', subnet(11));
  t.teardown(async () => void (await nbox('rm', '-f', 'un-pweb')));
  const web = await nbox('run', '-d', '--name', 'un-pweb', '--network', 'un-pa', '-p', '80', 'bb', 'sh', '-c',
    'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -h /www -p 80');
  t.is(web.code, 0, web.stderr);
  const port = Number(/^0\.0\.0\.0:(\d+)\n/.exec((await nbox('port', 'un-pweb', '80')).stdout)?.[1]);
  t.true(port > 0);
  await until('httpd in un-pweb', async () => ((await nbox('exec', 'un-pweb', 'wget', '-q', '-O', '-', 'http://127.0.0.1/')).code === 0 ? true : undefined));
  const address = JSON.parse((await nbox('inspect', '-f', '{{json .NetworkSettings.Networks}}', 'un-pweb')).stdout)['un-pa'].IPAddress as string;
  const gatewayB = subnet(11).replace(/0\/24$/, '1');
  // Busybox's wget -T crashes (Debian's 1.35); timeout bounds a connection the firewall drops. The `exit` keeps sh
  // from exec'ing it: busybox's timeout execs the program, which as the container's PID 1 would ignore its SIGTERM.
  const wget = (url: string, seconds: number) => nbox('run', '--rm', '--network', 'un-pb', 'bb', 'sh', '-c', `timeout ${seconds} wget -q -O - ${url}; exit $?`);
  const published = await wget(`http://${gatewayB}:${port}/`, 10);
  t.is(published.code, 0, published.stderr);
  t.is(published.stdout, `hello from ${web.stdout.trim().slice(0, 12)}\n`);
  const direct = await wget(`http://${address}/`, 3);
  t.not(direct.code, 0, 'the container itself stays out of reach');
  t.is(direct.stdout, '');
  t.notRegex(direct.stderr, /refused/, 'dropped, never answered');
});

test('--internal: its containers reach each other but have no default route, so no way past the network; inspect says Internal', async (t) => {
  await createNetwork(t, 'un-in', '--internal', '--subnet', subnet(12));
  await createNetwork(t, 'un-out', '--subnet', subnet(13));
  await detached(t, 'un-in-db', '--network', 'un-in');
  await detached(t, 'un-out-web', '--network', 'un-out');
  const run = await nbox('run', '--rm', '--network', 'un-in', 'bb', 'sh', '-c', 'ip route; ping -c1 -W2 un-in-db >/dev/null && echo peer answers');
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, new RegExp(`^${subnet(12).replace(/\./g, '\\.')} dev eth0 scope link  src \\S+ \npeer answers\n$`));
  const out = await nbox('run', '--rm', '--network', 'un-in', 'bb', 'ping', '-c1', '-W2', subnet(13).replace(/0\/24$/, '1'));
  t.is(out.code, 1, "another network's gateway is out of reach");
  const inspect = JSON.parse((await nbox('network', 'inspect', 'un-in')).stdout)[0];
  t.is(inspect.Internal, true);
  t.is(JSON.parse((await nbox('inspect', '-f', '{{json .NetworkSettings.Networks}}', 'un-in-db')).stdout)['un-in'].Gateway, '', 'no gateway, as Docker shows it');
});

test('a container on an --internal network gets its default route from the first network with a way out, at start or connected later', async (t) => {
  await createNetwork(t, 'un-rin', '--internal', '--subnet', subnet(15));
  await createNetwork(t, 'un-rout', '--subnet', subnet(16));
  const gateway = subnet(16).replace(/0\/24$/, '1');
  await detached(t, 'un-r-late', '--network', 'un-rin');
  const routes = async (name: string) => (await nbox('exec', name, 'ip', 'route')).stdout;
  t.notRegex(await routes('un-r-late'), /default/);
  t.is((await nbox('network', 'connect', 'un-rout', 'un-r-late')).code, 0);
  t.regex(await routes('un-r-late'), new RegExp(`^default via ${gateway.replace(/\./g, '\\.')} dev eth1 `, 'm'));
  // Both from the start: the internal one first, still the second gives the route; a third adds none.
  await createNetwork(t, 'un-rthird', '--subnet', subnet(17));
  const created = await nbox('create', '--name', 'un-r-both', '--network', 'un-rin', 'bb', 'sleep', '600');
  t.is(created.code, 0, created.stderr);
  t.teardown(async () => { await nbox('rm', '-f', 'un-r-both'); });
  t.is((await nbox('network', 'connect', 'un-rout', 'un-r-both')).code, 0);
  t.is((await nbox('network', 'connect', 'un-rthird', 'un-r-both')).code, 0);
  t.is((await nbox('start', 'un-r-both')).code, 0);
  const both = await routes('un-r-both');
  t.is(both.match(/^default/gm)?.length, 1, both);
  t.regex(both, new RegExp(`^default via ${gateway.replace(/\./g, '\\.')} dev eth1 `, 'm'));
});

test('--gateway: network inspect shows it and the containers\' default route goes through it', async (t) => {
  const gateway = subnet(14).replace(/0\/24$/, '254');
  await createNetwork(t, 'un-gw', '--subnet', subnet(14), '--gateway', gateway);
  t.deepEqual(JSON.parse((await nbox('network', 'inspect', 'un-gw')).stdout)[0].IPAM.Config, [{ Subnet: subnet(14), Gateway: gateway }]);
  const run = await nbox('run', '--rm', '--network', 'un-gw', 'bb', 'sh', '-c', 'ip route | grep default; ping -c1 -W2 $(ip route | awk "/default/ {print \\$3}") >/dev/null && echo gateway answers');
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, `default via ${gateway} dev eth0 \ngateway answers\n`);
});

test('a member that grows its /etc/hosts to hundreds of MB stalls nothing: peers run, rm works, ps lists', async (t) => {
  await createNetwork(t, 'un-hosts', '--subnet', subnet(9));
  await detached(t, 'un-big', '--network', 'un-hosts');
  await detached(t, 'un-peer', '--network', 'un-hosts');
  // Sparse: no disk, but every rewrite of the members' hosts files read it whole.
  t.is((await nbox('exec', 'un-big', 'truncate', '-s', '700M', '/etc/hosts')).code, 0);
  const peer = await nbox('run', '--rm', '--network', 'un-hosts', 'bb', 'true');
  t.is(peer.code, 0, peer.stderr);
  const removed = await nbox('rm', '-f', 'un-peer');
  t.is(removed.code, 0, removed.stderr);
  const ps = await nbox('ps', '-a', '--filter', 'name=un-big', '--format', '{{.Names}}');
  t.deepEqual([ps.code, ps.stdout], [0, 'un-big\n'], ps.stderr);
});
