// Resource limits (-m, --cpus, --pids-limit, --ulimit…) as cgroup files and
// rlimits, Docker's refusals of bad values, and an OOM kill reported as Docker
// reports it (exit 137, State.OOMKilled), for a foreground and a -d container.
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

import { cli, exitCodeOf, rootTest, sharedTestStore, spawnCli } from '../helpers/env';
import { cgroupsOf, runDetached, stateOf, until } from '../helpers/detached';

const test = rootTest();
const store = sharedTestStore(test);

/** A command that touches 64 MiB at once: busybox dd allocates its block. */
const HOG = ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'];

async function inspectState(ref: string): Promise<{ OOMKilled: boolean; ExitCode: number }> {
  const r = await cli(store.root, ['inspect', '-f', '{{json .State}}', ref]);
  return JSON.parse(r.stdout) as { OOMKilled: boolean; ExitCode: number };
}

test('a foreground container over its -m limit exits 137 with OOMKilled true; one under it false', async (t) => {
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', 'oom-fg', 'no-oom'])));
  const r = await cli(store.root, ['run', '--name', 'oom-fg', '-m', '8m', 'bb', ...HOG]);
  t.is(r.code, 137);
  t.like(await inspectState('oom-fg'), { OOMKilled: true, ExitCode: 137 });
  t.is((await cli(store.root, ['run', '--name', 'no-oom', '-m', '128m', 'bb', ...HOG])).code, 0);
  t.like(await inspectState('no-oom'), { OOMKilled: false, ExitCode: 0 });
});

test('a -d container over its -m limit is recorded by its monitor as OOMKilled, exit 137', async (t) => {
  const id = await runDetached(t, store.root, ['-m', '8m', 'bb', ...HOG]);
  await until('the end on record', () => (stateOf(store.root, id)?.status === 'exited' ? true : undefined));
  t.like(await inspectState(id), { OOMKilled: true, ExitCode: 137 });
});

test('the limits are in the container\'s groups as runc writes them, and the groups go with it', async (t) => {
  const id = await runDetached(t, store.root, [
    '-m', '64m', '--memory-swap', '96m', '--memory-reservation', '32m', '--cpus', '0.5', '--cpu-shares', '512',
    '--cpuset-cpus', '0', '--pids-limit', '20', 'bb', 'sleep', '60',
  ]);
  const dirs = cgroupsOf(id);
  const file = (controller: string, name: string) => readFileSync(join(dirs.find((d) => d.includes(`/${controller}/`))!, name), 'utf8').trim();
  t.is(file('memory', 'memory.limit_in_bytes'), String(64 << 20));
  t.is(file('memory', 'memory.memsw.limit_in_bytes'), String(96 << 20));
  t.is(file('memory', 'memory.soft_limit_in_bytes'), String(32 << 20));
  t.is(file('cpu', 'cpu.cfs_quota_us'), '50000');
  t.is(file('cpu', 'cpu.cfs_period_us'), '100000');
  t.is(file('cpu', 'cpu.shares'), '512');
  t.is(file('cpuset', 'cpuset.cpus'), '0');
  t.is(file('pids', 'pids.max'), '20');
  const host = JSON.parse((await cli(store.root, ['inspect', '-f', '{{json .HostConfig}}', id])).stdout) as Record<string, unknown>;
  t.like(host, { Memory: 64 << 20, MemorySwap: 96 << 20, MemoryReservation: 32 << 20, NanoCpus: 5e8, CpuShares: 512, CpusetCpus: '0', PidsLimit: 20 });
  t.is((await cli(store.root, ['rm', '-f', id])).code, 0);
  t.deepEqual(dirs.filter((dir) => existsSync(dir)), []);
});

test('--pids-limit stops a fork past it', async (t) => {
  const r = await cli(store.root, ['run', '--rm', '--pids-limit', '3', 'bb', 'sh', '-c', 'sleep 5 & sleep 5 & sleep 5 & echo forked']);
  t.notRegex(r.stdout, /forked/);
  t.regex(r.stderr, /can't fork|Resource temporarily unavailable|Try again/i);
});

test('--ulimit sets the init\'s soft and hard limits before it runs', async (t) => {
  const r = await cli(store.root, ['run', '--rm', '--ulimit', 'nofile=100:200', '--ulimit', 'nproc=50', 'bb', 'sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -u']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '100\n200\n50\n');
});

test('bad limit values are Docker\'s one line, exit 125, and create nothing', async (t) => {
  const before = (await cli(store.root, ['ps', '-aq'])).stdout;
  const cases: [string[], string][] = [
    [['-m', '1m'], 'Minimum memory limit allowed is 6MB'],
    [['-m', '8x'], `invalid argument "8x" for "-m, --memory" flag: invalid size: '8x'`],
    [['--cpus', 'abc'], 'invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number'],
    [['--cpus', '999'], 'Range of CPUs is from 0.01 to'],
    [['--memory-swap', '64m'], 'You should always set the Memory limit when using Memoryswap limit, see usage'],
    [['--ulimit', 'nofile=2:1'], 'ulimit soft limit must be less than or equal to hard limit: 2 > 1'],
    [['--cpuset-cpus', '0-999'], 'Requested CPUs are not available - requested 0-999'],
  ];
  for (const [flags, message] of cases) {
    const r = await cli(store.root, ['run', '--rm', ...flags, 'bb', 'true']);
    t.is(r.code, 125, flags.join(' '));
    t.true(r.stderr.includes(message), r.stderr);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  t.is((await cli(store.root, ['ps', '-aq'])).stdout, before);
});

test('stats --no-stream: the container\'s memory against its -m limit, its tasks, no network bytes without a network', async (t) => {
  const id = await runDetached(t, store.root, ['--name', 'stats-me', '--network', 'none', '-m', '64m', 'bb', 'sh', '-c', 'sleep 60 & sleep 60 & wait']);
  // sh, then its two sleeps once it has forked them.
  const line = await until('three tasks', async () => {
    const r = await cli(store.root, ['stats', '--no-stream', '--format', '{{.Name}}|{{.MemUsage}}|{{.NetIO}}|{{.PIDs}}|{{.CPUPerc}}', 'stats-me']);
    return r.stdout.includes('|3|') ? r.stdout : undefined;
  });
  t.regex(line, /^stats-me\|[\d.]+[KM]iB \/ 64MiB\|0B \/ 0B\|3\|\d+\.\d\d%\n$/);
  const table = await cli(store.root, ['stats', '--no-stream']);
  t.regex(table.stdout, /^CONTAINER ID {3}NAME {2,}CPU % {2,}MEM USAGE \/ LIMIT {2,}MEM % {2,}NET I\/O {2,}BLOCK I\/O {2,}PIDS\n/);
  t.true(table.stdout.includes(id.slice(0, 12)));
  t.regex((await cli(store.root, ['stats', '--no-stream', 'no-such'])).stderr, /No such container: no-such/);
});

test('stats --no-stream reads at once: a busy container\'s CPU % over its life so far, above 0 from the start', async (t) => {
  await runDetached(t, store.root, ['--name', 'busy', '--network', 'none', 'bb', 'sh', '-c', 'while :; do :; done']);
  const r = await cli(store.root, ['stats', '--no-stream', '--format', '{{.CPUPerc}}', 'busy']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^\d+\.\d\d%\n$/);
  t.true(Number.parseFloat(r.stdout) > 0, r.stdout);
});

test('a restart keeps the container\'s group: its monitor records the group\'s CPU time as the new life begins', async (t) => {
  // The first life burns CPU and fails; the second finds /m and sleeps.
  const script = '[ -e /m ] && exec sleep 60; touch /m; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; exit 1';
  const id = await runDetached(t, store.root, ['--restart', 'on-failure:1', '--network', 'none', 'bb', 'sh', '-c', script]);
  const state = await until('the second life', () => {
    const s = stateOf(store.root, id);
    return s?.status === 'running' && s.restartCount === 1 ? s : undefined;
  });
  // stats measures the second life from there (stats.test.ts), not from the group's first.
  t.true((state.cpuAtStart ?? 0) > 0, JSON.stringify(state));
});

test('update changes a running container\'s limits in its groups and its record, and prints its name', async (t) => {
  const id = await runDetached(t, store.root, ['--name', 'upd', '-m', '64m', 'bb', 'sleep', '60']);
  const dirs = cgroupsOf(id);
  const file = (controller: string, name: string) => readFileSync(join(dirs.find((d) => d.includes(`/${controller}/`))!, name), 'utf8').trim();
  const r = await cli(store.root, ['update', '-m', '32m', '--memory-swap', '48m', '--cpus', '0.5', '--cpu-shares', '256', '--pids-limit', '10', '--restart', 'on-failure:1', 'upd']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'upd\n');
  t.is(file('memory', 'memory.limit_in_bytes'), String(32 << 20));
  t.is(file('memory', 'memory.memsw.limit_in_bytes'), String(48 << 20));
  t.is(file('cpu', 'cpu.cfs_quota_us'), '50000');
  t.is(file('cpu', 'cpu.shares'), '256');
  t.is(file('pids', 'pids.max'), '10');
  const host = JSON.parse((await cli(store.root, ['inspect', '-f', '{{json .HostConfig}}', 'upd'])).stdout) as Record<string, unknown>;
  t.like(host, { Memory: 32 << 20, MemorySwap: 48 << 20, NanoCpus: 5e8, CpuShares: 256, PidsLimit: 10, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 1 } });
  // Both up past the old swap: the kernel needs swap first, then memory.
  t.is((await cli(store.root, ['update', '-m', '200m', '--memory-swap', '400m', 'upd'])).code, 0);
  t.is(file('memory', 'memory.limit_in_bytes'), String(200 << 20));
  t.is(file('memory', 'memory.memsw.limit_in_bytes'), String(400 << 20));
  const tooBig = await cli(store.root, ['update', '-m', '500m', 'upd']);
  t.is(tooBig.code, 1);
  t.regex(tooBig.stderr, /Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
  const none = await cli(store.root, ['update', 'upd']);
  t.is(none.code, 125);
  t.regex(none.stderr, /You must provide one or more flags when using this command\./);
});

test('--cgroup-parent makes the container\'s groups under that group from each hierarchy\'s root', async (t) => {
  const parent = `nbox-test-parent-${process.pid}`;
  t.teardown(() => {
    for (const dir of cgroupParents(parent)) rmdirSync(dir);
  });
  const id = await runDetached(t, store.root, ['--cgroup-parent', `/${parent}`, '-m', '32m', 'bb', 'sleep', '60']);
  const dirs = cgroupsOf(id);
  t.true(dirs.length > 0);
  for (const dir of dirs) t.true(dir.startsWith('/sys/fs/cgroup/') && dir.includes(`/${parent}/`), dir);
  const memory = dirs.find((d) => d.startsWith(`/sys/fs/cgroup/memory/${parent}/`))!;
  t.is(readFileSync(join(memory, 'memory.limit_in_bytes'), 'utf8').trim(), String(32 << 20));
  t.is((await cli(store.root, ['inspect', '-f', '{{.HostConfig.CgroupParent}}', id])).stdout, `/${parent}\n`);
  await cli(store.root, ['rm', '-f', id]);
  t.deepEqual(dirs.filter((dir) => existsSync(dir)), []);
  const escape = await cli(store.root, ['run', '--rm', '--cgroup-parent', '../../x', 'bb', 'true']);
  t.is(escape.code, 125);
  t.regex(escape.stderr, /invalid cgroup parent/);
});

function cgroupParents(name: string): string[] {
  return readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, name)).filter((dir) => existsSync(dir));
}

test('update --restart reaches the monitor of a running container: its next exit restarts it', async (t) => {
  const id = await runDetached(t, store.root, ['bb', 'sh', '-c', 'sleep 1; exit 3']);
  t.is((await cli(store.root, ['update', '--restart', 'on-failure:1', id])).code, 0);
  await until('one restart, then the end', () => {
    const state = stateOf(store.root, id);
    return state?.status === 'exited' && state.restartCount === 1 ? true : undefined;
  });
  t.like(JSON.parse((await cli(store.root, ['inspect', '-f', '{{json .HostConfig.RestartPolicy}}', id])).stdout), { Name: 'on-failure', MaximumRetryCount: 1 });
});

test('stats without --no-stream clears the screen and prints the table again each second', async (t) => {
  await runDetached(t, store.root, ['--name', 'streamed', 'bb', 'sleep', '60']);
  const child = spawnCli(store.root, ['stats', 'streamed']);
  t.teardown(async () => {
    child.kill('SIGKILL');
    await exitCodeOf(child);
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const tables = await until('two tables', () => {
    const parts = out.split('\u001b[2J\u001b[H').filter(Boolean);
    return parts.length >= 2 ? parts : undefined;
  });
  for (const table of tables.slice(0, 2)) t.regex(table, /^CONTAINER ID .*\n[0-9a-f]{12} {3}streamed /);
});
