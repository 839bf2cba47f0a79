#!/usr/bin/env node
// `run -d -p PORT:80 busybox httpd` until http://127.0.0.1:PORT/ answers, for
// each tool in turn (A B C, then C B A, …), the container removed after
// each timed round (untimed).
//   node scripts/bench/publish.js RUNS NAME=PORT=COMMAND...
// COMMAND is the tool's `run` prefix up to the image (split on spaces); the
// bench adds `-d -p PORT:80 IMAGE sh -c '...httpd...'` and removes it with
// the same tool's `rm -f`, then lets the machine settle (SETTLE_MS). Prints JSON:
// { NAME: { median, min, runs } } in ms.
'use strict';
const { spawnSync } = require('node:child_process');
const { get } = require('node:http');

const [runsArg, ...specs] = process.argv.slice(2);
const SETTLE_MS = 300;
const HTTPD = ['sh', '-c', 'echo hello > /tmp/index.html && exec httpd -f -p 80 -h /tmp'];
const tools = specs.map((spec) => {
  const [name, port, ...rest] = spec.split('=');
  const command = rest.join('=');
  const [program, ...words] = command.split(' ').filter(Boolean);
  const image = words.pop();
  return { name, port: Number(port), program, prefix: words, image, times: [] };
});

function answers(port) {
  return new Promise((resolve) => {
    get({ host: '127.0.0.1', port, path: '/', timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
    }).on('error', () => resolve(false)).on('timeout', function () { this.destroy(); });
  });
}

async function round(tool) {
  const start = process.hrtime.bigint();
  const run = spawnSync(tool.program, [...tool.prefix, '-d', '-p', `${tool.port}:80`, tool.image, ...HTTPD], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${tool.name}: ${run.stderr}`);
  while (!(await answers(tool.port))) await new Promise((resolve) => setTimeout(resolve, 2));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const rmWords = tool.prefix.slice(0, tool.prefix.indexOf('run'));
  spawnSync(tool.program, [...rmWords, 'rm', '-f', run.stdout.trim()], { stdio: 'ignore' });
  // What a removal leaves running (podman's conmon starts `podman container cleanup`; nftables frees a
  // removed rule after an RCU grace period) must not fall in the next tool's timed round.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  return ms;
}

(async () => {
  for (let i = 0; i < Number(runsArg) + 1; i++) {
    // Every other round in reverse: each tool follows each other's removal as often.
    for (const tool of i % 2 ? [...tools].reverse() : tools) {
      const ms = await round(tool);
      if (i > 0) tool.times.push(ms); // the first round warms up
    }
  }
  const result = {};
  for (const tool of tools) {
    const sorted = [...tool.times].sort((a, b) => a - b);
    result[tool.name] = { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], runs: sorted.length };
  }
  console.log(JSON.stringify(result));
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
