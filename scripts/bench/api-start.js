#!/usr/bin/env node
// In-process start + exit of `true` through the library API, sequentially:
//   node scripts/bench/api-start.js STORE IMAGE [COUNT]
// Prints the median and p90 per container and containers per second.
'use strict';
const { Nbox } = require('../../dist/src/api');

async function main() {
  const [root, image, countArg] = process.argv.slice(2);
  const count = Number(countArg ?? 200);
  const nbox = await Nbox.open({ root });
  const once = async () => {
    const c = await nbox.run(image, { cmd: ['true'], stdio: 'ignore', autoRemove: true });
    const exit = await c.exited;
    if (exit.exitCode !== 0) throw new Error(`container exited ${JSON.stringify(exit)}`);
  };
  for (let i = 0; i < 10; i++) await once(); // warm-up: code paths, page cache
  const times = [];
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await once();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const totalS = Number(process.hrtime.bigint() - started) / 1e9;
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const p90 = times[Math.floor(times.length * 0.9)];
  console.log(JSON.stringify({ count, medianMs: +median.toFixed(2), p90Ms: +p90.toFixed(2), perSecond: +(count / totalS).toFixed(1) }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
