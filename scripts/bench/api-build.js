#!/usr/bin/env node
// A cached build through the library API, in-process and sequential:
//   node scripts/bench/api-build.js STORE CONTEXT DOCKERFILE [COUNT]
// Prints the median and p90 per build: what a test harness pays for a build
// it has already made, without a CLI process's start.
'use strict';
const { Nbox } = require('../../dist/src/api');

async function main() {
  const [root, context, dockerfile, countArg] = process.argv.slice(2);
  const count = Number(countArg ?? 50);
  const nbox = await Nbox.open({ root });
  const once = () => nbox.build({ context, file: dockerfile });
  const first = await once(); // fills the cache if it was empty
  const times = [];
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    if ((await once()) !== first) throw new Error('a cached build gave another image');
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ count, medianMs: +times[Math.floor(count / 2)].toFixed(2), p90Ms: +times[Math.floor(count * 0.9)].toFixed(2) }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
