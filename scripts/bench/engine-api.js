// Times create + start + wait + remove of a busybox `true` through Docker
// Engine API sockets, alternating between them round by round; prints JSON
// medians. Usage: node engine-api.js RUNS name=SOCKET:IMAGE ...
'use strict';
const http = require('node:http');

// podman's default (raised) nofile/nproc limits are refused in this sandbox: runc's example 1024.
const ULIMITS = [{ Name: 'nofile', Soft: 1024, Hard: 1024 }, { Name: 'nproc', Soft: 1024, Hard: 1024 }];

function call(socketPath, method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath, method, path, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => (res.statusCode >= 400 ? reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`)) : resolve(text)));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function once(socket, image) {
  const started = process.hrtime.bigint();
  const { Id } = JSON.parse(await call(socket, 'POST', '/v1.41/containers/create', { Image: image, Cmd: ['true'], HostConfig: { NetworkMode: 'none', Ulimits: ULIMITS } }));
  const waited = call(socket, 'POST', `/v1.41/containers/${Id}/wait?condition=next-exit`);
  await call(socket, 'POST', `/v1.41/containers/${Id}/start`);
  const { StatusCode } = JSON.parse(await waited);
  if (StatusCode !== 0) throw new Error(`exit ${StatusCode}`);
  await call(socket, 'DELETE', `/v1.41/containers/${Id}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

(async () => {
  const runs = Number(process.argv[2]);
  const peers = process.argv.slice(3).map((arg) => {
    const [name, rest] = arg.split('=');
    const [socket, image] = rest.split(':');
    return { name, socket, image, times: [] };
  });
  for (const peer of peers) await once(peer.socket, peer.image); // warm
  for (let i = 0; i < runs; i++) for (const peer of peers) peer.times.push(await once(peer.socket, peer.image));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(JSON.stringify(Object.fromEntries(peers.map((p) => [p.name, { median: median(p.times), min: Math.min(...p.times) }]))));
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
