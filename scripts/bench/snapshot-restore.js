#!/usr/bin/env node
// restore() of a container whose snapshot holds a 100 MB writable layer, through the library API:
//   node scripts/bench/snapshot-restore.js STORE IMAGE [COUNT]
// Each round writes a small file (a test's change) and restores; prints the median and p90 of restore().
'use strict';
const { Nbox } = require('../../dist/src/api');

async function main() {
  const [root, image, countArg] = process.argv.slice(2);
  const count = Number(countArg ?? 20);
  const nbox = await Nbox.open({ root });
  const c = await nbox.run(image, { detach: true, cmd: ['sleep', '100000'], publish: ['80'] });
  try {
    await c.exec(['sh', '-c', 'dd if=/dev/urandom of=/data bs=1M count=100 2>/dev/null'], { reject: true });
    await c.snapshot({ timeout: 0 });
    const times = [];
    for (let i = 0; i < count + 3; i++) {
      await c.exec(['sh', '-c', 'echo row > /row'], { reject: true });
      const t0 = process.hrtime.bigint();
      await c.restore();
      if (i >= 3) times.push(Number(process.hrtime.bigint() - t0) / 1e6); // 3 warm-up rounds
    }
    const check = await c.exec(['sh', '-c', 'test ! -e /row && test -s /data']);
    if (check.exitCode !== 0) throw new Error('restore did not restore');
    times.sort((a, b) => a - b);
    console.log(JSON.stringify({ count, medianMs: +times[Math.floor(count / 2)].toFixed(2), p90Ms: +times[Math.floor(count * 0.9)].toFixed(2) }));
  } finally {
    await c.remove({ force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
