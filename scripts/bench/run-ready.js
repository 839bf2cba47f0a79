#!/usr/bin/env node
// The library's run() to ready of busybox, sequentially (issue 14: <= 10 ms
// median, >= 100 containers/s): a detached container whose log line
// `Wait.forLog` sees, then its removal (also on the default bridge with a
// published port); and a foreground run whose piped stdout shows the line,
// then its exit (also from a process 400 MB larger, a test runner's size).
// Prints JSON per mode: ready median and p90 in ms, and containers per
// second over whole rounds (teardown included).
//   node scripts/bench/run-ready.js STORE IMAGE [COUNT]
'use strict';
const { Nbox, Wait } = require('../../dist/src/api');

const CMD = ['sh', '-c', 'echo ready; exec sleep 60'];

async function detached(nbox, image, options = { network: 'none' }) {
  const t0 = process.hrtime.bigint();
  const c = await nbox.run(image, { cmd: CMD, detach: true, ...options });
  await c.waitFor([Wait.forLog('ready')]);
  const ready = Number(process.hrtime.bigint() - t0) / 1e6;
  await c.remove({ force: true });
  return ready;
}

async function foreground(nbox, image) {
  const t0 = process.hrtime.bigint();
  const c = await nbox.run(image, { cmd: CMD, stdio: 'pipe', network: 'none', autoRemove: true });
  await new Promise((resolve, reject) => {
    let text = '';
    c.stdout.on('data', (chunk) => {
      text += chunk;
      if (text.includes('ready\n')) resolve();
    });
    c.stdout.on('end', () => reject(new Error(`no ready line: ${text}`)));
  });
  const ready = Number(process.hrtime.bigint() - t0) / 1e6;
  c.kill('SIGKILL');
  await c.exited;
  return ready;
}

async function measure(name, once, count) {
  for (let i = 0; i < 5; i++) await once(); // warm-up: code paths, page cache
  const times = [];
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) times.push(await once());
  const totalS = Number(process.hrtime.bigint() - started) / 1e9;
  times.sort((a, b) => a - b);
  const at = (q) => +times[Math.floor(times.length * q)].toFixed(2);
  return { mode: name, count, readyMedianMs: at(0.5), readyP90Ms: at(0.9), perSecond: +(count / totalS).toFixed(1) };
}

async function main() {
  const [root, image, countArg] = process.argv.slice(2);
  const count = Number(countArg ?? 50);
  const nbox = await Nbox.open({ root });
  console.log(JSON.stringify(await measure('foreground', () => foreground(nbox, image), count)));
  console.log(JSON.stringify(await measure('detached+forLog', () => detached(nbox, image), count)));
  // A harness's usual container: on the default bridge with a published port, removed at the end of its test.
  console.log(JSON.stringify(await measure('bridge+port', () => detached(nbox, image, { ports: [80] }), count)));
  // A test runner's process is hundreds of MB: a start that copied its page tables would pay for each one.
  const ballast = Array.from({ length: 400 }, () => new Float64Array(131072).fill(1.5));
  console.log(JSON.stringify(await measure('foreground 400MB', () => foreground(nbox, image), count)));
  ballast.length = 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
