// Times testcontainers-node's GenericContainer with a published port and a log
// wait, start to ready, then its stop (which removes it), against the Engine API
// socket in DOCKER_HOST. testcontainers picks its runtime once per process, so
// each socket gets a process of its own (testcontainers.sh alternates them).
// Usage: DOCKER_HOST=unix://SOCK node testcontainers.js RUNS IMAGE; prints JSON times in ms.
'use strict';
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
const { GenericContainer, Wait } = require('testcontainers');

async function once(image) {
  const started = process.hrtime.bigint();
  const container = await new GenericContainer(image)
    .withCommand(['sh', '-c', 'echo ready; exec httpd -f -p 8080'])
    .withExposedPorts(8080)
    // podman's default (raised) nofile/nproc limits are refused in this sandbox: runc's example 1024.
    .withUlimits({ nofile: { soft: 1024, hard: 1024 }, nproc: { soft: 1024, hard: 1024 } })
    .withWaitStrategy(Wait.forLogMessage('ready'))
    .start();
  const ready = Number(process.hrtime.bigint() - started) / 1e6;
  if (!(container.getMappedPort(8080) > 0)) throw new Error('no mapped port');
  await container.stop({ timeout: 0 });
  return { ready, total: Number(process.hrtime.bigint() - started) / 1e6 };
}

(async () => {
  const [runs, image] = [Number(process.argv[2]), process.argv[3]];
  await once(image); // warm: the runtime's discovery, the image's first use
  const times = [];
  for (let i = 0; i < runs; i++) times.push(await once(image));
  console.log(JSON.stringify(times));
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
