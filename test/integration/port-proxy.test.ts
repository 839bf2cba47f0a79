// nbox-proxy on its own (native/proxy.c), against servers of this test on
// 127.0.0.1 as the container's address: bytes both ways with half-closes,
// many clients at once, a target that refuses, UDP flows, and its end when
// its lifeline's write end closes. Runs where the host has IPv6's loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

import { addon } from '../../src/sys/addon';
import { rootTest } from '../helpers/env';
import { hostHasIpv6 } from '../helpers/host-network';
import { alive, until } from '../helpers/detached';

const test = rootTest();
const PROXY = join(__dirname, '..', '..', '..', 'build', 'Release', 'nbox-proxy');

interface Proxy {
  child: ChildProcess;
  ports: number[];
}

/** startProxy binds [::1] sockets for each target and runs nbox-proxy on them; its stdin pipe is the lifeline. */
function startProxy(targets: Array<{ protocol: 'tcp' | 'udp'; port: number }>): Proxy {
  const held = targets.map((target) => addon().bindPort(target.protocol, '::1', 0));
  const child = spawn(PROXY, targets.map((target) => `${target.protocol}:127.0.0.1:${target.port}`), {
    stdio: ['pipe', 'ignore', 'inherit', ...held.map((socket) => socket.fd)],
  });
  held.forEach((socket) => closeSync(socket.fd));
  return { child, ports: held.map((socket) => socket.port) };
}

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** exchange sends bytes to [::1]:port, shuts its write end, and resolves with all it reads until the other end's EOF. */
function exchange(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '::1', port }, () => socket.end(bytes));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

const ipv6Test = hostHasIpv6() ? test : test.skip;

ipv6Test('TCP: megabytes both ways, each half-close passed on, thirty clients at once; a refused target closes the client', async (t) => {
  // The server reads to the client's EOF, then answers with what it got, reversed, and ends: the
  // answer can only come once the client's shutdown went through the proxy.
  const server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => socket.end(Buffer.concat(chunks).reverse()));
  });
  const port = await listening(server);
  // A port that refuses: its server is closed before the proxy starts.
  const closed = createServer();
  const refusing = await listening(closed);
  await new Promise((resolve) => closed.close(resolve));
  const proxy = startProxy([{ protocol: 'tcp', port }, { protocol: 'tcp', port: refusing }]);
  t.teardown(() => {
    proxy.child.kill('SIGKILL');
    server.close();
  });
  await new Promise<void>((resolve) => setTimeout(resolve, 50));

  const big = Buffer.alloc(4 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  t.true((await exchange(proxy.ports[0], big)).equals(Buffer.from(big).reverse()));

  const many = await Promise.all(Array.from({ length: 30 }, (_, i) => exchange(proxy.ports[0], Buffer.from(`client ${i}`))));
  t.deepEqual(many.map((answer) => answer.toString()), Array.from({ length: 30 }, (_, i) => [...`client ${i}`].reverse().join('')));

  // Nothing listens on the second target: the client is closed, not left hanging.
  t.is((await exchange(proxy.ports[1], Buffer.from('anyone?')).catch(() => Buffer.from(''))).length, 0);
});

ipv6Test("TCP: a target that answers and resets while the client still uploads: the answer gets through, as docker-proxy's does", async (t) => {
  // An HTTP server refusing a large body: it answers at the first bytes and resets the connection with the rest unread.
  const server = createServer((socket: Socket) => {
    socket.once('data', () => socket.write('HTTP/1.1 413 Payload Too Large\r\n\r\n', () => socket.resetAndDestroy()));
    socket.on('error', () => {});
  });
  const proxy = startProxy([{ protocol: 'tcp', port: await listening(server) }]);
  t.teardown(() => {
    proxy.child.kill('SIGKILL');
    server.close();
  });
  await new Promise<void>((resolve) => setTimeout(resolve, 50));
  const answer = await new Promise<string>((resolve) => {
    let got = '';
    const socket = connect({ host: '::1', port: proxy.ports[0] }, () => socket.write(Buffer.alloc(32 << 20)));
    socket.on('data', (chunk: Buffer) => (got += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => resolve(got));
  });
  t.regex(answer, /^HTTP\/1\.1 413 /);
});

ipv6Test('UDP: each client is its own flow to the target, answered at its own address; the proxy ends when its lifeline closes', async (t) => {
  const target = createSocket('udp4');
  target.on('message', (message, from) => target.send(`${message} via ${from.address}`, from.port, from.address));
  await new Promise<void>((resolve) => target.bind(0, '127.0.0.1', resolve));
  const proxy = startProxy([{ protocol: 'udp', port: target.address().port }]);
  t.teardown(() => {
    proxy.child.kill('SIGKILL');
    target.close();
  });
  const ask = (text: string) => new Promise<string>((resolve, reject) => {
    const client = createSocket('udp6');
    const timer = setTimeout(() => (client.close(), reject(new Error('no answer'))), 3000);
    client.once('message', (message) => (clearTimeout(timer), client.close(), resolve(message.toString())));
    client.send(text, proxy.ports[0], '::1');
  });
  t.deepEqual(await Promise.all(['a', 'b', 'c'].map(ask)), ['a via 127.0.0.1', 'b via 127.0.0.1', 'c via 127.0.0.1']);

  // The holder of the ports goes: the lifeline reads EOF, and the proxy ends.
  proxy.child.stdin!.end();
  await until('the proxy to end', () => (alive(proxy.child.pid!) ? undefined : true));
  t.is(proxy.child.exitCode ?? (await new Promise((resolve) => proxy.child.once('exit', resolve))), 0);
});
