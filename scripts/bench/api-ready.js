#!/usr/bin/env node
// A harness's container start, sequentially: run() until its log shows `ready`,
// then disposal (kill and remove), through the library API in this process;
// beside it, when PODMAN is set, the same with the podman CLI (run -d, logs
// polled until `ready`, rm -f), in interleaved rounds.
//   node scripts/bench/api-ready.js STORE IMAGE [COUNT]   (PODMAN="podman --root …", PODMAN_IMAGE)
// Prints each one's median and p90 to ready, containers per second, and the ratio.
'use strict';
const { execFileSync } = require('node:child_process');
const { Nbox, Wait } = require('../../dist/src/api');

const CMD = ['sh', '-c', 'echo ready; exec sleep 60'];

async function main() {
  const [root, image, countArg] = process.argv.slice(2);
  const count = Number(countArg ?? 100);
  const nbox = await Nbox.open({ root });
  const podman = process.env.PODMAN ? process.env.PODMAN.split(' ') : null;
  const tools = {
    nbox: async () => {
      const t0 = process.hrtime.bigint();
      const c = await nbox.run(image, { cmd: CMD, network: 'none', wait: Wait.forLog('ready'), deadline: 30_000 });
      const ready = Number(process.hrtime.bigint() - t0) / 1e6;
      await c[Symbol.asyncDispose]();
      return ready;
    },
  };
  if (podman) {
    const run = (args) => execFileSync(podman[0], [...podman.slice(1), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    tools.podman = async () => {
      const t0 = process.hrtime.bigint();
      const id = run(['run', '-d', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', process.env.PODMAN_IMAGE ?? image, ...CMD]).trim();
      while (!run(['logs', id]).includes('ready')) await new Promise((resolve) => setTimeout(resolve, 5));
      const ready = Number(process.hrtime.bigint() - t0) / 1e6;
      run(['rm', '-f', '-t', '0', id]);
      return ready;
    };
  }
  for (const once of Object.values(tools)) for (let i = 0; i < 5; i++) await once(); // warm-up
  const results = {};
  for (const [name, once] of Object.entries(tools)) {
    const times = [];
    let total = 0;
    for (let i = 0; i < count; i++) {
      const t0 = process.hrtime.bigint();
      times.push(await once());
      total += Number(process.hrtime.bigint() - t0) / 1e9;
    }
    times.sort((a, b) => a - b);
    results[name] = { median: times[Math.floor(count / 2)], p90: times[Math.floor(count * 0.9)], perSecond: count / total };
  }
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(7)} run to ready median ${r.median.toFixed(1)} ms  p90 ${r.p90.toFixed(1)} ms  ${r.perSecond.toFixed(1)} containers/s (start, ready, removed)`);
  }
  if (results.podman) console.log(`nbox / podman (median to ready) ${(results.nbox.median / results.podman.median).toFixed(3)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
