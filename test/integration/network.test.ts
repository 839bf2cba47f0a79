// The default bridge network and published ports. This file's containers use a
// bridge, subnet and nftables table of its own (NBOX_BRIDGE*), so test files
// running side by side never share one, and the file's end removes whatever a
// failed test left: namespaces, links, the table, the lease files.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';

import { CLI, cli, exitCodeOf, rootTest, sharedTestStore, spawnCli } from '../helpers/env';
import { freePort, hostHasIpv6, httpGet, removeTestBridge } from '../helpers/host-network';
import { comm, runDetached, until } from '../helpers/detached';

const test = rootTest();
const BRIDGE = `nbt${process.pid % 100000}`;
const OCTET = 100 + (process.pid % 150);
const SUBNET = `10.91.${OCTET}.0/24`;
const GATEWAY = `10.91.${OCTET}.1`;
const TABLE = `nbox_${BRIDGE}`;
const STATE = '/run/nbox/networks';
process.env.NBOX_BRIDGE = BRIDGE;
process.env.NBOX_BRIDGE_SUBNET = SUBNET;

const store = sharedTestStore(test);

test.after.always(() => removeTestBridge(BRIDGE));

function quiet(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

const bridgeExists = () => quiet('ip', ['-o', 'link', 'show', BRIDGE]) !== '';
const tableExists = () => quiet('nft', ['list', 'tables']).includes(TABLE);
const leases = (): Record<string, { address: string; netns: string; hostIf: string; mac: string }> => {
  try {
    return JSON.parse(readFileSync(`${STATE}/${BRIDGE}.json`, 'utf8'));
  } catch {
    return {};
  }
};

/** gone waits until the file's network left nothing on the host: no lease, bridge, table or namespace. */
async function allGone(): Promise<void> {
  await until('the bridge network to go', () => (!bridgeExists() && !tableExists() && Object.keys(leases()).length === 0
    && !readdirSync(STATE).some((name) => name.startsWith(`${BRIDGE}-`)) ? true : undefined), 15000);
}

const HTTPD = ['sh', '-c', 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -h /www -p 80'];

// The file's tests run one at a time: no other container holds the bridge meanwhile.
test('the bridge goes its linger after the last container ends, not after an earlier one', async (t) => {
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  t.is((await cli(store.root, ['run', '--rm', 'bb', 'true'])).code, 0);
  await pause(1200);
  t.is((await cli(store.root, ['run', '--rm', 'bb', 'true'])).code, 0);
  // The first one's linger (2 s) is over; the second one's is not.
  await pause(1200);
  t.true(bridgeExists(), 'the bridge is still up');
  // One process waits out the linger, however many containers ended.
  t.is(lingerers().length, 1);
  await allGone();
  await until('the lingerer to end', () => (lingerers().length === 0 ? true : undefined));
});

// lingerers are the processes that wait to take the file's bridge down (bridge-network.ts LINGERER).
function lingerers(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    try {
      return comm(pid) === 'flock' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`${STATE}/${BRIDGE}.lock.linger`);
    } catch {
      return false;
    }
  });
}

test('run: eth0 on the default bridge with its address, the default route via the gateway, /etc/hosts naming it; all gone after', async (t) => {
  const r = await cli(store.root, ['run', '--rm', '--hostname', 'netbox', 'bb', 'sh', '-c',
    'ip -4 -o addr show eth0; ip route; cat /etc/hosts; ping -c 1 -W 2 $(ip route | awk "/default/ {print \\$3}") >/dev/null && echo gateway answers']);
  t.is(r.code, 0, r.stderr);
  const address = new RegExp(`inet (10\\.91\\.${OCTET}\\.\\d+)/24`).exec(r.stdout)?.[1];
  t.truthy(address, r.stdout);
  t.regex(r.stdout, new RegExp(`default via ${GATEWAY.replace(/\./g, '\\.')} dev eth0`));
  t.true(r.stdout.includes(`${address}\tnetbox`), r.stdout);
  t.regex(r.stdout, /gateway answers/);
  await allGone();
});

test('run --network none and host stay as they were: no eth0, no lease', async (t) => {
  const none = await cli(store.root, ['run', '--rm', '--network', 'none', 'bb', 'ip', '-o', 'link']);
  t.is(none.code, 0, none.stderr);
  t.false(none.stdout.includes('eth0'));
  t.deepEqual(leases(), {});
});

// A detached --network none container's namespace is made by its monitor while nbox prepares the spec; a
// restart's is made by its clone. Each is a new one with its loopback up, as a namespace made at the clone has.
test('run -d --network none: each run, restarts too, has a namespace of its own with lo up', async (t) => {
  const script = 'ip -o link; readlink /proc/1/ns/net; exit 1';
  const id = await runDetached(t, store.root, ['--network', 'none', '--restart', 'on-failure:1', 'bb', 'sh', '-c', script]);
  const logs = await until('both runs\' lines', async () => {
    const out = (await cli(store.root, ['logs', id])).stdout;
    return out.match(/^net:/gm)?.length === 2 ? out : undefined;
  });
  t.is(logs.match(/^1: lo: <LOOPBACK,UP,LOWER_UP>/gm)?.length, 2, logs);
  t.false(logs.includes('eth0'));
  const namespaces = logs.match(/^net:\[\d+\]$/gm)!;
  t.is(new Set([...namespaces, readlinkSync('/proc/self/ns/net')]).size, 3, logs);
});

test('-p HOSTPORT:80 answers on 127.0.0.1 after the CLI that ran -d exited, and from another container; port, ps and inspect show it', async (t) => {
  const port = await freePort();
  const id = await runDetached(t, store.root, ['--name', 'web', '-p', `${port}:80`, 'bb', ...HTTPD]);
  const body = await until('the published port to answer', () => httpGet(port).catch(() => undefined));
  t.is(body, `hello from ${id.slice(0, 12)}\n`);
  // From another container, through the host's address on the bridge.
  const other = await cli(store.root, ['run', '--rm', 'bb', 'wget', '-q', '-O', '-', `http://${GATEWAY}:${port}/`]);
  t.is(other.code, 0, other.stderr);
  t.is(other.stdout, `hello from ${id.slice(0, 12)}\n`);
  // As Docker: a port published without an address is on 0.0.0.0 and, where the host has IPv6, on [::].
  const v6 = hostHasIpv6();
  t.is((await cli(store.root, ['port', 'web'])).stdout, `80/tcp -> 0.0.0.0:${port}\n${v6 ? `80/tcp -> [::]:${port}\n` : ''}`);
  t.is((await cli(store.root, ['port', 'web', '80'])).stdout, `0.0.0.0:${port}\n${v6 ? `[::]:${port}\n` : ''}`);
  t.is((await cli(store.root, ['ps', '--format', '{{.Ports}}'])).stdout, `0.0.0.0:${port}->80/tcp${v6 ? `, [::]:${port}->80/tcp` : ''}\n`);
  const inspect = JSON.parse((await cli(store.root, ['inspect', 'web'])).stdout)[0];
  t.deepEqual(inspect.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(port) }, ...(v6 ? [{ HostIp: '::', HostPort: String(port) }] : [])] });
  t.deepEqual(inspect.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: String(port) }] });
  t.is(inspect.NetworkSettings.Gateway, GATEWAY);
  t.is(inspect.NetworkSettings.Networks.bridge.IPAddress, inspect.NetworkSettings.IPAddress);
  t.regex(inspect.NetworkSettings.IPAddress, new RegExp(`^10\\.91\\.${OCTET}\\.`));

  // A second container cannot have the port: Docker's message, exit 125, nothing made, nothing leased.
  const taken = await cli(store.root, ['run', '--name', 'web2', '-p', `${port}:80`, 'bb', 'true']);
  t.is(taken.code, 125);
  t.is(taken.stderr, `nbox: Bind for 0.0.0.0:${port} failed: port is already allocated\n`);
  t.is((await cli(store.root, ['ps', '-a', '--format', '{{.Names}}'])).stdout, 'web\n');
  t.deepEqual(Object.keys(leases()), [id]);

  t.is((await cli(store.root, ['rm', '-f', 'web'])).code, 0);
  await cli(store.root, ['ps']);
  await allGone();
});

test('-p on a port a host process listens on, and bad -p values: exit 125, no container, no lease', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  t.teardown(() => void server.close());
  const { port } = server.address() as AddressInfo;
  const busy = await cli(store.root, ['run', '-p', `${port}:80`, 'bb', 'true']);
  t.is(busy.code, 125);
  t.regex(busy.stderr, new RegExp(`listen tcp4 0\\.0\\.0\\.0:${port}: bind: address already in use`));
  for (const [spec, message] of [['abc', 'invalid containerPort: abc'], ['70000:80', 'invalid hostPort: 70000'], ['80/sctpx', 'invalid proto: sctpx']]) {
    const bad = await cli(store.root, ['run', '-p', spec, 'bb', 'true']);
    t.is(bad.code, 125, spec);
    t.is(bad.stderr, `nbox: ${message}\n`);
  }
  t.is((await cli(store.root, ['ps', '-a', '-q'])).stdout, '');
  t.deepEqual(leases(), {});
});

test('kill -9 of the nbox running a container: the next store open releases its lease and namespace', async (t) => {
  const child = spawnCli(store.root, ['run', '--rm', 'bb', 'sleep', '60']);
  const lease = await until('the lease and its namespace', () => Object.values(leases()).find((one) => existsSync(one.netns)));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('close', resolve));
  t.is((await cli(store.root, ['ps', '-a'])).code, 0);
  t.deepEqual(leases(), {});
  t.false(existsSync(lease.netns));
  await allGone();
});

test("a subnet that overlaps a host route is refused before anything is made", async (t) => {
  const route = readFileSync('/proc/net/route', 'utf8').split('\n').slice(1).map((line) => line.trim().split(/\s+/))
    .find((fields) => fields.length > 7 && fields[7] !== '00000000' && !fields[0].startsWith('nb'));
  if (!route) return t.pass('this host has no route but the default one');
  const hex = (value: string) => [6, 4, 2, 0].map((at) => parseInt(value.slice(at, at + 2), 16)).join('.');
  const prefix = parseInt(route[7], 16).toString(2).replace(/0/g, '').length;
  const subnet = `${hex(route[1])}/${prefix}`;
  const r = await cli(store.root, ['run', '--rm', 'bb', 'true'], { env: { ...process.env, NBOX_ROOT: store.root, NBOX_BRIDGE: `${BRIDGE}x`, NBOX_BRIDGE_SUBNET: subnet } });
  t.is(r.code, 125);
  t.regex(r.stderr, new RegExp(`subnet ${subnet.replace(/\./g, '\\.')} overlaps the host's route to .* \\(dev ${route[0]}\\); choose another subnet`));
  t.is(quiet('ip', ['-o', 'link', 'show', `${BRIDGE}x`]), '');
});

test('--network container:NAME shares a running container\'s network (its eth0 and 127.0.0.1); a stopped or unknown one is refused', async (t) => {
  await runDetached(t, store.root, ['--name', 'base', 'bb', ...HTTPD]);
  await until('httpd in base', async () => ((await cli(store.root, ['exec', 'base', 'wget', '-q', '-O', '-', 'http://127.0.0.1/'])).code === 0 ? true : undefined));
  const shared = await cli(store.root, ['run', '--rm', '--network', 'container:base', 'bb', 'sh', '-c', 'ip -4 -o addr show eth0 | wc -l; wget -q -O - http://127.0.0.1/']);
  t.is(shared.code, 0, shared.stderr);
  t.regex(shared.stdout, /^1\nhello from /);
  const unknown = await cli(store.root, ['run', '--rm', '--network', 'container:nosuch', 'bb', 'true']);
  t.is(unknown.code, 125);
  t.is(unknown.stderr, 'nbox: No such container: nosuch\n');
  t.is((await cli(store.root, ['rm', '-f', 'base'])).code, 0);
  await allGone();
});

test('-P publishes every EXPOSEd port on a free host port; `port` lists it', async (t) => {
  const id = (await cli(store.root, ['commit', '--change', 'EXPOSE 80', (await cli(store.root, ['create', 'bb', 'true'])).stdout.trim(), 'bbweb'])).stdout.trim();
  t.regex(id, /^sha256:/);
  await runDetached(t, store.root, ['--name', 'pub', '-P', 'bbweb', ...HTTPD]);
  const line = (await cli(store.root, ['port', 'pub'])).stdout;
  const port = Number(/^80\/tcp -> 0\.0\.0\.0:(\d+)\n/.exec(line)?.[1]);
  t.true(port > 0, line);
  // One free port for both families, as Docker 27 on.
  t.is(line, `80/tcp -> 0.0.0.0:${port}\n${hostHasIpv6() ? `80/tcp -> [::]:${port}\n` : ''}`);
  t.regex(await until('the -P port to answer', () => httpGet(port).catch(() => undefined)), /^hello from /);
  t.is((await cli(store.root, ['rm', '-f', 'pub'])).code, 0);
  await allGone();
});

test('a detached container that ends on its own gives its lease back through its monitor, with no nbox command run', async (t) => {
  const id = await runDetached(t, store.root, ['bb', 'sleep', '1']);
  t.truthy(leases()[id]);
  // No CLI runs from here: the monitor's exit command releases the lease, and the bridge goes after its linger.
  await allGone();
  t.pass();
});

// reaperLog builds the fixture that names what a monitor leaves behind as it ends (test/fixtures/reaper-log).
function reaperLog(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nbox-reaper-log-'));
  execFileSync('gcc', ['-O1', '-o', join(dir, 'reaper-log'), resolve(__dirname, '../../../test/fixtures/reaper-log/reaper-log.c')]);
  return join(dir, 'reaper-log');
}

// monitorLeavings runs `run -d args` under reaperLog, has `end` end the container, and resolves with the names of the
// processes its monitor left, the monitor's own among them, once none is left.
async function monitorLeavings(reaper: string, args: string[], end: (id: string) => Promise<void>): Promise<string[]> {
  const child = spawn(reaper, [process.execPath, '--', CLI, 'run', '-d', ...args], { env: { ...process.env, NBOX_ROOT: store.root }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = exitCodeOf(child);
  const id = await until('the container ID', () => /^[0-9a-f]{64}$/m.exec(out)?.[0]);
  await end(id);
  await exited;
  return out.split('\n').filter((line) => line !== '' && line !== id);
}

test("rm -f of a detached container releases its lease itself: its monitor starts no sweep, where one that ends on its own does", async (t) => {
  const reaper = reaperLog();
  t.teardown(() => rmSync(dirname(reaper), { recursive: true, force: true }));
  const onItsOwn = await monitorLeavings(reaper, ['-p', '80', 'bb', 'sleep', '1'], async () => {});
  // The sweep (node), and the bridge's teardown after its linger (flock).
  t.true(onItsOwn.includes('nbox-monitor') && onItsOwn.includes('node'), onItsOwn.join(' '));
  const removed = await monitorLeavings(reaper, ['-p', '80', 'bb', 'sleep', '60'], async (id) => {
    t.is((await cli(store.root, ['rm', '-f', id])).code, 0);
  });
  t.deepEqual(removed, ['nbox-monitor']);
  await allGone();
});

test('an rm -f killed once the container is gone has released its lease and port already: nothing waits for the next nbox', async (t) => {
  const port = await freePort();
  const id = await runDetached(t, store.root, ['-p', `${port}:80`, 'bb', 'sleep', '60']);
  t.truthy(leases()[id]);
  const killed = await cli(store.root, ['rm', '-f', id], { env: { ...process.env, NBOX_ROOT: store.root, NBOX_TEST_STOP_AT: 'rm-stopped' } });
  t.is(killed.signal, 'SIGKILL');
  // No nbox command since: the lease, and the DNAT of the port the monitor gave back, are gone.
  t.false(id in leases());
  t.false(quiet('nft', ['list', 'map', 'ip', TABLE, 'dnat_any']).includes(`. ${port} :`));
  t.is((await cli(store.root, ['rm', '-f', id])).code, 0);
  await allGone();
});

// fetchFrom asks a container address for / (the host routes to the bridge), its answer or the error's text.
async function fetchFrom(address: string): Promise<string> {
  try {
    return await (await fetch(`http://${address}/`, { signal: AbortSignal.timeout(3000) })).text();
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  }
}

test('rm -f, then a new container given the same address: it gets the traffic at once, though the old namespace lingers', async (t) => {
  // No IPv6: its link-up chatter would teach the bridge the new port before the check does.
  const quietLink = ['--sysctl', 'net.ipv6.conf.all.disable_ipv6=1', '--sysctl', 'net.ipv6.conf.default.disable_ipv6=1'];
  const first = await runDetached(t, store.root, [...quietLink, 'bb', ...HTTPD]);
  const lease = await until('the first lease', () => leases()[first]);
  // The kernel deletes a namespace, and its veth pair, in the background: held open here, it lingers.
  const held = openSync(lease.netns, 'r');
  try {
    t.is(await fetchFrom(lease.address), `hello from ${first.slice(0, 12)}\n`);
    t.is((await cli(store.root, ['rm', '-f', first])).code, 0);
    // Its host end lingers with the namespace, down: a port that forwards nothing, with nothing learned on it.
    t.regex(quiet('ip', ['-o', 'link', 'show', lease.hostIf]), /state DOWN/);
    t.false(quiet('bridge', ['fdb', 'show', 'br', BRIDGE]).includes(`${lease.mac} dev ${lease.hostIf} `), 'the address it learned there is gone');
    const second = await runDetached(t, store.root, [...quietLink, 'bb', ...HTTPD]);
    t.is(leases()[second]?.address, lease.address, 'the lowest free address again');
    // Once it serves (asked from inside), one request from the host: the old port (same MAC) is down, so the
    // bridge forwards nothing to it and has forgotten what it learned there.
    await until('the new container to serve', async () => ((await cli(store.root, ['exec', second, 'wget', '-q', '-O-', 'http://127.0.0.1/'])).code === 0 ? true : undefined), 5000);
    t.is(await fetchFrom(lease.address), `hello from ${second.slice(0, 12)}\n`);
    t.is((await cli(store.root, ['rm', '-f', second])).code, 0);
  } finally {
    closeSync(held);
  }
  await allGone();
});

test('stop, then start at once while the last run\'s namespace lingers: its veth pair is replaced', async (t) => {
  const id = await runDetached(t, store.root, ['bb', ...HTTPD]);
  const lease = await until('the lease', () => leases()[id]);
  const held = openSync(lease.netns, 'r');
  try {
    t.is((await cli(store.root, ['stop', '-t', '0', id])).code, 0);
    const started = await cli(store.root, ['start', id]);
    t.is(started.code, 0, started.stderr);
    const address = (await until('the new lease', () => leases()[id])).address;
    t.is(await until('it to answer', async () => {
      const text = await fetchFrom(address);
      return text.startsWith('hello') ? text : undefined;
    }, 3000), `hello from ${id.slice(0, 12)}\n`);
    t.is((await cli(store.root, ['rm', '-f', id])).code, 0);
  } finally {
    closeSync(held);
  }
  await allGone();
});

test("--format's Go templates on a running container: inspect ranges over its networks, ps calls {{.Label}}", async (t) => {
  const id = await runDetached(t, store.root, ['--name', 'tmpl', '--label', 'k=v', 'bb', 'sleep', '60']);
  const address = leases()[id]?.address;
  t.regex(address ?? '', new RegExp(`^10\\.91\\.${OCTET}\\.\\d+$`));
  const networks = await cli(store.root, ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'tmpl']);
  t.deepEqual([networks.code, networks.stdout, networks.stderr], [0, `${address}\n`, '']);
  const ps = await cli(store.root, ['ps', '--format', '{{.Names}} {{.Label "k"}}']);
  t.deepEqual([ps.code, ps.stdout, ps.stderr], [0, 'tmpl v\n', '']);
  t.is((await cli(store.root, ['rm', '-f', 'tmpl'])).code, 0);
  await allGone();
});

test("a container cannot reach the host's loopback through the gateway: frames for 127.0.0.1 are dropped on the bridge", async (t) => {
  // route_localnet (for the host's own 127.0.0.1 ports) must not open the host's loopback-only services to containers.
  const dir = mkdtempSync(join(tmpdir(), 'nbox-loopback-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('gcc', ['-static', '-O1', '-o', join(dir, 'attacks'), resolve(__dirname, '../../../test/fixtures/attacks/attacks.c')]);
  const server = createServer((socket) => socket.end('host secret\n'));
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  t.teardown(() => new Promise<void>((closed) => server.close(() => closed())));
  const { port } = server.address() as AddressInfo;
  const script = `ping -c1 -W1 ${GATEWAY} >/dev/null; /attacks loopback $(awk '$1=="${GATEWAY}"{print $4}' /proc/net/arp) ${port}`;
  const attack = await cli(store.root, ['run', '--rm', '-v', `${join(dir, 'attacks')}:/attacks:ro`, 'bb', 'sh', '-c', script]);
  t.is(attack.stdout, 'silent\n', attack.stderr);
  await allGone();
});
