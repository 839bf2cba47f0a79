// Published host ports are held by a socket for as long as the container runs
// (its monitor's for -d, the nbox process's in the foreground), as Docker's
// proxy and podman's conmon hold them: no host process can take the port
// meanwhile, it is free again once the container ends, and the socket never
// reaches the container. This file's containers use a bridge, subnet and
// nftables table of their own (NBOX_BRIDGE*); only 127.0.0.1 gets traffic.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

import { cli, rootTest, sharedTestStore, spawnCli } from '../helpers/env';
import { freePort, hostHasIpv6, httpGet, removeTestBridge } from '../helpers/host-network';
import { alive, monitors, parentOf, runDetached, runningState, stateOf, until } from '../helpers/detached';

const test = rootTest();
const BRIDGE = `nbp${process.pid % 100000}`;
const OCTET = 100 + (process.pid % 150);
process.env.NBOX_BRIDGE = BRIDGE;
process.env.NBOX_BRIDGE_SUBNET = `10.92.${OCTET}.0/24`;

const store = sharedTestStore(test);

test.after.always(() => removeTestBridge(BRIDGE));

const HTTPD = ['sh', '-c', 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -h /www -p 80'];

/** tcpBind is what a host process gets binding host:port as servers do (Node sets SO_REUSEADDR): 'ok' or the error code. */
function tcpBind(port: number, host: string): Promise<string> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ port, host }, () => server.close(() => resolve('ok')));
  });
}

function udpBind(port: number, host: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', (err: NodeJS.ErrnoException) => (socket.close(), resolve(err.code ?? err.message)));
    socket.bind(port, host, () => socket.close(() => resolve('ok')));
  });
}

/** binds are what host binds of the port get on 127.0.0.1 and on 0.0.0.0. */
async function binds(port: number, bind = tcpBind): Promise<string[]> {
  return [await bind(port, '127.0.0.1'), await bind(port, '0.0.0.0')];
}

/** hostSockets are the inodes of the sockets in this (the host's) network namespace, by /proc/net's tables. */
function hostSockets(): Map<number, string> {
  const sockets = new Map<number, string>();
  for (const [table, column] of [['tcp', 9], ['tcp6', 9], ['udp', 9], ['udp6', 9], ['unix', 6]] as const) {
    for (const line of readFileSync(`/proc/net/${table}`, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > column) sockets.set(Number(fields[column]), `${table} ${fields[1]}`);
    }
  }
  return sockets;
}

/** socketsOf are the inodes of the sockets among a host process's fds. */
function socketsOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      return match ? [Number(match[1])] : [];
    } catch {
      return [];
    }
  });
}

/** localPort is a /proc/net table line's local port (`0100007F:1F90` → 8080). */
const localPort = (address: string) => parseInt(address.split(':')[1], 16);

test('run -d -p: the monitor holds the host port (a host bind gets EADDRINUSE) after the CLI exited, across a restart of the command; stop, start and rm -f give it back and take it again', async (t) => {
  const port = await freePort();
  const id = await runDetached(t, store.root, ['--name', 'held', '--restart', 'always', '-p', `${port}:80`, 'bb', ...HTTPD]);
  t.deepEqual(await binds(port), ['EADDRINUSE', 'EADDRINUSE']);
  t.is(await until('the published port to answer', () => httpGet(port).catch(() => undefined)), 'hello\n');
  // The holder is the monitor: a listening socket on the port in the host's namespace, as `ss -ltnp` shows it.
  const [monitor] = monitors(id);
  const host = hostSockets();
  const held = socketsOf(monitor).filter((inode) => host.get(inode)?.startsWith('tcp ') && localPort(host.get(inode)!.split(' ')[1]) === port);
  t.is(held.length, 1);

  // The command ends and runs again under the same monitor: the port stays held.
  const first = (await runningState(store.root, id)).pid;
  process.kill(first, 'SIGKILL');
  await until('the restart', () => {
    const state = stateOf(store.root, id);
    return state?.status === 'running' && state.pid !== first ? true : undefined;
  });
  t.deepEqual(monitors(id), [monitor]);
  t.deepEqual(await binds(port), ['EADDRINUSE', 'EADDRINUSE']);

  t.is((await cli(store.root, ['stop', '-t', '0', 'held'])).code, 0);
  t.deepEqual(await binds(port), ['ok', 'ok']);
  t.is((await cli(store.root, ['start', 'held'])).code, 0);
  t.deepEqual(await binds(port), ['EADDRINUSE', 'EADDRINUSE']);
  t.is((await cli(store.root, ['rm', '-f', 'held'])).code, 0);
  t.deepEqual(await binds(port), ['ok', 'ok']);
});

test('-p PORT/udp is held the same way; a created container takes its ports at start, which refuses one a host process took meanwhile', async (t) => {
  const port = await freePort();
  await runDetached(t, store.root, ['--name', 'udp', '-p', `127.0.0.1:${port}:53/udp`, 'bb', 'sleep', '60']);
  t.deepEqual(await binds(port, udpBind), ['EADDRINUSE', 'EADDRINUSE']);
  t.is((await cli(store.root, ['rm', '-f', 'udp'])).code, 0);
  t.deepEqual(await binds(port, udpBind), ['ok', 'ok']);

  const created = await cli(store.root, ['create', '--name', 'later', '-p', `${port}:80`, 'bb', 'sleep', '60']);
  t.is(created.code, 0, created.stderr);
  t.deepEqual(await binds(port), ['ok', 'ok']);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const refused = await cli(store.root, ['start', 'later']);
  await new Promise((resolve) => server.close(resolve));
  t.not(refused.code, 0);
  t.regex(refused.stderr, new RegExp(`listen tcp4 0\\.0\\.0\\.0:${port}: bind: address already in use`));
  t.regex((await cli(store.root, ['ps', '-a', '--filter', 'name=later', '--format', '{{.Status}}'])).stdout, /^Created\n$/);
  t.is((await cli(store.root, ['rm', '-f', 'later'])).code, 0);
});

test('kill -9 of the monitor: the kernel closes its sockets, the port is free, and ps -a shows Exited (137)', async (t) => {
  const port = await freePort();
  const id = await runDetached(t, store.root, ['--name', 'killed', '-p', `${port}:80`, 'bb', 'sleep', '60']);
  t.deepEqual(await binds(port), ['EADDRINUSE', 'EADDRINUSE']);
  const [monitor] = monitors(id);
  process.kill(monitor, 'SIGKILL');
  await until('the monitor to go', () => (monitors(id).length === 0 ? true : undefined));
  t.deepEqual(await binds(port), ['ok', 'ok']);
  t.regex((await cli(store.root, ['ps', '-a', '--filter', 'name=killed', '--format', '{{.Status}}'])).stdout, /^Exited \(137\) /);
});

test('no fd in the container (its init, an exec) is a socket of the host namespace: the held port stays out', async (t) => {
  const port = await freePort();
  const id = await runDetached(t, store.root, ['--name', 'fds', '-p', `${port}:80`, 'bb', ...HTTPD]);
  await until('the published port to answer', () => httpGet(port).catch(() => undefined));
  const listing = await cli(store.root, ['exec', 'fds', 'sh', '-c', 'ls -l /proc/1/fd /proc/$$/fd']);
  t.is(listing.code, 0, listing.stderr);
  const inside = [...listing.stdout.matchAll(/socket:\[(\d+)\]/g)].map((match) => Number(match[1]));
  // httpd's own listening socket, in the container's namespace: the check sees sockets.
  t.true(inside.length > 0, listing.stdout);
  const host = hostSockets();
  t.deepEqual(inside.filter((inode) => host.has(inode)), []);
  const [monitor] = monitors(id);
  const held = socketsOf(monitor).filter((inode) => host.get(inode)?.startsWith('tcp '));
  t.is(held.length, 1);
  t.false(inside.includes(held[0]));
  t.deepEqual(socketsOf(stateOf(store.root, id)!.pid).filter((inode) => host.has(inode)), []);
  t.is((await cli(store.root, ['rm', '-f', 'fds'])).code, 0);
});

test('a foreground run holds its ports in the nbox process, never in the container, and gives them back as it ends', async (t) => {
  const port = await freePort();
  // Its output to /dev/null: a pipe of Node's is a socket pair, which the container would rightly get as its stdout.
  const child = spawnCli(store.root, ['run', '--name', 'fg', '-p', `${port}:80`, 'bb', 'sleep', '60'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const ended = new Promise((resolve) => child.once('close', resolve));
  t.teardown(async () => {
    child.kill('SIGKILL');
    await cli(store.root, ['rm', '-f', 'fg']);
  });
  const state = await until('fg running', async () => {
    const id = (await cli(store.root, ['ps', '-q', '--no-trunc', '--filter', 'name=fg'])).stdout.trim();
    const current = id ? stateOf(store.root, id) : null;
    return current?.status === 'running' ? current : undefined;
  });
  t.deepEqual(await binds(port), ['EADDRINUSE', 'EADDRINUSE']);
  const host = hostSockets();
  const held = socketsOf(child.pid!).filter((inode) => host.get(inode)?.startsWith('tcp ') && localPort(host.get(inode)!.split(' ')[1]) === port);
  t.is(held.length, 1);
  t.deepEqual(socketsOf(state.pid), []);
  t.is((await cli(store.root, ['kill', 'fg'])).code, 0);
  await ended;
  t.deepEqual(await binds(port), ['ok', 'ok']);
});

/** proxiesOf are the live nbox-proxy processes whose parent is pid. */
function proxiesOf(pid: number): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((child) => {
    try {
      return alive(child) && readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'nbox-proxy' && parentOf(child) === pid;
    } catch {
      return false;
    }
  });
}

/** statusField is a line of /proc/PID/status (Uid, CapEff…). */
function statusField(pid: number, name: string): string {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
}

/** udpAsk sends one datagram to [::1]:port and resolves with the answer. */
function udpAsk(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp6');
    const timer = setTimeout(() => (socket.close(), reject(new Error('no answer'))), 3000);
    socket.once('message', (message) => (clearTimeout(timer), socket.close(), resolve(message.toString())));
    socket.send(text, port, '::1');
  });
}

test('-p without an address answers on [::1] as well, through an nbox-proxy of the monitor: as nobody with no capability, for TCP and UDP; it goes with the container and with a killed monitor', async (t) => {
  if (!hostHasIpv6()) {
    // A host without IPv6 publishes on 0.0.0.0 alone.
    const port = await freePort();
    await runDetached(t, store.root, ['--name', 'v4only', '-p', `${port}:80`, 'bb', 'sleep', '60']);
    t.is((await cli(store.root, ['port', 'v4only'])).stdout, `80/tcp -> 0.0.0.0:${port}\n`);
    t.is((await cli(store.root, ['rm', '-f', 'v4only'])).code, 0);
    return;
  }
  const port = await freePort();
  const udpPort = await freePort();
  const id = await runDetached(t, store.root, ['--name', 'six', '-p', `${port}:80`, '-p', `${udpPort}:53/udp`, 'bb', ...HTTPD]);
  t.is((await cli(store.root, ['port', 'six', '80'])).stdout, `0.0.0.0:${port}\n[::]:${port}\n`);
  t.is(await until('the published port to answer on ::1', () => httpGet(port, '::1').catch(() => undefined)), 'hello\n');
  t.is(await httpGet(port, '127.0.0.1'), 'hello\n');
  t.deepEqual([await tcpBind(port, '::'), await udpBind(udpPort, '::')], ['EADDRINUSE', 'EADDRINUSE']);

  const [monitor] = monitors(id);
  const [proxy] = proxiesOf(monitor);
  t.truthy(proxy);
  t.regex(statusField(proxy, 'Uid'), /^65534\s+65534\s+65534\s+65534$/);
  t.is(statusField(proxy, 'CapEff'), '0000000000000000');

  // A UDP server in the container's network namespace (busybox has none): each datagram to [::]:udpPort reaches it
  // from the bridge's gateway, and its answer comes back.
  const pid = (await runningState(store.root, id)).pid;
  const echo = spawn('nsenter', ['-t', String(pid), '-n', process.execPath, '-e',
    "const s = require('dgram').createSocket('udp4'); s.on('message', (m, r) => s.send('echo ' + m, r.port, r.address)); s.bind(53, () => console.log('up'));"]);
  t.teardown(() => void echo.kill('SIGKILL'));
  await new Promise((resolve) => echo.stdout.once('data', resolve));
  t.is(await udpAsk(udpPort, 'one'), 'echo one');
  t.is(await udpAsk(udpPort, 'two'), 'echo two');

  // stop: the proxy goes before the end is on record, and the port is free at once.
  t.is((await cli(store.root, ['stop', '-t', '0', 'six'])).code, 0);
  t.false(alive(proxy));
  t.is(await tcpBind(port, '::'), 'ok');
  t.is((await cli(store.root, ['start', 'six'])).code, 0);
  const [again] = monitors(id);
  t.is(await until('the port to answer again on ::1', () => httpGet(port, '::1').catch(() => undefined)), 'hello\n');
  const [next] = proxiesOf(again);
  process.kill(again, 'SIGKILL');
  // The proxy sees its lifeline close while the monitor is still closing its own copies of the sockets: the port
  // is free once both are gone.
  await until('the killed monitor and its proxy to end', () => (alive(again) || alive(next) ? undefined : true));
  t.is(await tcpBind(port, '::'), 'ok');
  t.is((await cli(store.root, ['rm', '-f', 'six'])).code, 0);
});

test('a foreground run relays its IPv6 ports with an nbox-proxy of its own, which ends when that nbox is killed', async (t) => {
  if (!hostHasIpv6()) return t.pass('no IPv6 on this host');
  const port = await freePort();
  const child = spawnCli(store.root, ['run', '--rm', '--name', 'fg6', '-p', `${port}:80`, 'bb', ...HTTPD], { stdio: ['pipe', 'ignore', 'ignore'] });
  t.teardown(async () => {
    child.kill('SIGKILL');
    await cli(store.root, ['rm', '-f', 'fg6']);
  });
  t.is(await until('the published port to answer on ::1', () => httpGet(port, '::1').catch(() => undefined)), 'hello\n');
  const [proxy] = proxiesOf(child.pid!);
  t.truthy(proxy);
  child.kill('SIGKILL');
  await until('the proxy to end with its nbox', () => (alive(proxy) ? undefined : true));
  // The port is free once this process's keep-alive connection through the proxy saw its end and closed.
  t.is(await until('the port to be free', async () => ((await tcpBind(port, '::')) === 'ok' ? 'ok' : undefined), 5000), 'ok');
});

const TABLE = `nbox_${BRIDGE}`;

/** dnatPorts are the host ports in the test bridge's DNAT maps (any address, and one address), as nft lists them. */
function dnatPorts(): number[] {
  const maps = ['dnat_any', 'dnat_address'].map((map) => execFileSync('/usr/sbin/nft', ['list', 'map', 'ip', TABLE, map], { encoding: 'utf8' })).join('');
  return [...maps.matchAll(/(?:tcp|udp) \. (\d+) :/g)].map((match) => Number(match[1])).sort((a, b) => a - b);
}

/** tableHandle is the kernel's handle of the test bridge's table: a table made again gets a new one. */
function tableHandle(): string {
  return /# handle (\d+)/.exec(execFileSync('/usr/sbin/nft', ['-a', 'list', 'table', 'ip', TABLE], { encoding: 'utf8' }))![1];
}

test("a container's ports go into the maps of a table that is up and leave them at its removal, the table kept; a table changed by hand is written again", async (t) => {
  const [first, second, third] = [await freePort(), await freePort(), await freePort()].sort((a, b) => a - b);
  await runDetached(t, store.root, ['--name', 'first', '-p', `${first}:80`, 'bb', ...HTTPD]);
  const table = tableHandle();
  await runDetached(t, store.root, ['--name', 'second', '-p', `127.0.0.1:${second}:80`, 'bb', ...HTTPD]);
  t.deepEqual(dnatPorts().filter((port) => port === first || port === second), [first, second]);
  t.is(tableHandle(), table, 'added to, not made again');
  t.is(await until('the second port to answer', () => httpGet(second).catch(() => undefined)), 'hello\n');
  t.is((await cli(store.root, ['rm', '-f', 'first'])).code, 0);
  t.deepEqual(dnatPorts().filter((port) => port === first || port === second), [second]);
  t.is(tableHandle(), table, 'taken out, not made again');
  t.is(await httpGet(second), 'hello\n');

  // Someone's element on a port nbox then publishes: the table is written as nbox has it, and the port answers.
  execFileSync('/usr/sbin/nft', ['add', 'element', 'ip', TABLE, 'dnat_any', `{ tcp . ${third} : 10.255.255.1 . 1 }`]);
  await runDetached(t, store.root, ['--name', 'third', '-p', `${third}:80`, 'bb', ...HTTPD]);
  t.is(await until('the third port to answer', () => httpGet(third).catch(() => undefined)), 'hello\n');
  t.not(tableHandle(), table, 'made again');
  // A port someone took out of the table: the removal writes the table without it all the same.
  execFileSync('/usr/sbin/nft', ['delete', 'element', 'ip', TABLE, 'dnat_address', `{ 127.0.0.1 . tcp . ${second} }`]);
  t.is((await cli(store.root, ['rm', '-f', 'second'])).code, 0);
  t.deepEqual(dnatPorts().filter((port) => port === first || port === second || port === third), [third]);
  t.is((await cli(store.root, ['rm', '-f', 'third'])).code, 0);
});

test('a port change the kernel refuses whole (no CAP_NET_ADMIN) fails at once, with both maps in the batch, instead of waiting for answers that never come', async (t) => {
  const addon = resolve(__dirname, '../../src/sys/addon.js');
  const script = `
    const ports = [{ protocol: 'tcp', hostIp: '', hostPort: 1, address: '10.0.0.2', containerPort: 1 },
      { protocol: 'udp', hostIp: '127.0.0.1', hostPort: 2, address: '10.0.0.2', containerPort: 2 }];
    try { require(${JSON.stringify(addon)}).addon().nftPorts('nbox_absent', true, ports); } catch (err) { console.log(err.errnoName); }`;
  const refused = spawnSync('setpriv', ['--bounding-set=-net_admin', process.execPath, '-e', script], { encoding: 'utf8', timeout: 20_000 });
  t.is(refused.signal, null, 'it returned');
  t.is(refused.stdout, 'EPERM\n', refused.stderr);
});

/** freeRange is the first of count consecutive TCP ports that host binds get on every address of both families. */
async function freeRange(count: number): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.map(async (port) => (await tcpBind(port, '0.0.0.0')) === 'ok' && (!hostHasIpv6() || (await tcpBind(port, '::')) === 'ok')));
    if (free.every(Boolean)) return base;
  }
}

test('-p ranges and --expose as Docker reads them: ranges of one length map port to port, a host range for one port gives the first free one; port lists them sorted', async (t) => {
  const both = (key: string, port: number) => [`${key} -> 0.0.0.0:${port}`, ...(hostHasIpv6() ? [`${key} -> [::]:${port}`] : [])];
  const base = await freeRange(2);
  await runDetached(t, store.root, ['--name', 'ranges', '-p', `${base}-${base + 1}:80-81`, 'bb', 'sleep', '60']);
  t.deepEqual((await cli(store.root, ['port', 'ranges'])).stdout.trim().split('\n'), [...both('80/tcp', base), ...both('81/tcp', base + 1)]);

  const pool = await freeRange(3);
  await runDetached(t, store.root, ['--name', 'pool1', '-p', `${pool}-${pool + 2}:80`, 'bb', 'sleep', '60']);
  await runDetached(t, store.root, ['--name', 'pool2', '-p', `${pool}-${pool + 2}:80`, 'bb', 'sleep', '60']);
  t.deepEqual((await cli(store.root, ['port', 'pool1', '80'])).stdout.trim().split('\n')[0], `0.0.0.0:${pool}`);
  t.deepEqual((await cli(store.root, ['port', 'pool2', '80'])).stdout.trim().split('\n')[0], `0.0.0.0:${pool + 1}`);

  // --expose's ports (a range too) are -P's, beside the image's; ps's order is Docker's natural one.
  await runDetached(t, store.root, ['--name', 'exposed', '--expose', '9-10', '--expose', '53/udp', '-P', 'bb', 'sleep', '60']);
  const lines = (await cli(store.root, ['port', 'exposed'])).stdout.trim().split('\n');
  t.deepEqual(lines.map((line) => line.split(' ')[0]), hostHasIpv6() ? ['9/tcp', '9/tcp', '10/tcp', '10/tcp', '53/udp', '53/udp'] : ['9/tcp', '10/tcp', '53/udp']);

  // Exposed and not published: ps and inspect show it while the container runs, as Docker does.
  await runDetached(t, store.root, ['--name', 'unpublished', '--expose', '9000', '-p', `${pool + 2}:80`, 'bb', 'sleep', '60']);
  const ps = async () => (await cli(store.root, ['ps', '-a', '--filter', 'name=unpublished', '--format', '{{.Ports}}'])).stdout;
  t.is(await ps(), `9000/tcp, 0.0.0.0:${pool + 2}->80/tcp${hostHasIpv6() ? `, [::]:${pool + 2}->80/tcp` : ''}\n`);
  const settings = JSON.parse((await cli(store.root, ['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'unpublished'])).stdout);
  t.deepEqual(Object.keys(settings), ['80/tcp', '9000/tcp']);
  t.is(settings['9000/tcp'], null);
  t.is((await cli(store.root, ['inspect', '-f', '{{json .Config.ExposedPorts}}', 'unpublished'])).stdout, '{"80/tcp":{},"9000/tcp":{}}\n');
  t.is((await cli(store.root, ['stop', '-t', '0', 'unpublished'])).code, 0);
  t.is(await ps(), '\n');

  for (const [args, message] of [
    [['--expose', '7000-x'], 'invalid range format for --expose: 7000-x'],
    [['-p', '8000-8001:80-82'], 'invalid ranges specified for container and host Ports: 80-82 and 8000-8001'],
  ]) {
    const bad = await cli(store.root, ['run', '--name', 'bad', ...args, 'bb', 'true']);
    t.is(bad.code, 125);
    t.is(bad.stderr, `nbox: ${message}\n`);
  }
  t.is((await cli(store.root, ['ps', '-a', '-q', '--filter', 'name=bad'])).stdout, '');
  t.is((await cli(store.root, ['rm', '-f', 'ranges', 'pool1', 'pool2', 'exposed', 'unpublished'])).code, 0);
});
