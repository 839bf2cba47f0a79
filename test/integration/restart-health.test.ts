// `run --restart` and `--health-*`: what is recorded for the monitor, what
// inspect and ps show of it, and bad values refused before anything exists.
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { ContainerState } from '../../src/runtime/container-state';
import { pidNamespace, processStartTime } from '../../src/sys/proc';
import { cli, exitCodeOf, fileScope, rootTest, sharedTestStore, writeContext } from '../helpers/env';

const test = rootTest();
const scope = fileScope(test);
const store = sharedTestStore(test);

async function inspect(name: string): Promise<Record<string, any>> {
  const r = await cli(store.root, ['inspect', '--type', 'container', name]);
  if (r.code !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as Record<string, any>[])[0];
}

test('run --restart on-failure:3 --health-cmd records the policy and the health check; inspect and ps show them', async (t) => {
  const r = await cli(store.root, ['run', '-d', '--name', 'svc', '--restart', 'on-failure:3', '--health-cmd', 'true', '--health-interval', '1m30s', '--health-retries', '0x5', 'bb', 'true']);
  t.deepEqual([r.code, r.stderr.trim()], [0, '']);
  t.is((await cli(store.root, ['wait', 'svc'])).stdout, '0\n');
  const svc = await inspect('svc');
  t.deepEqual(svc.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  t.false(svc.HostConfig.AutoRemove);
  t.deepEqual(svc.Config.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 90e9, Retries: 5 });
  // It ended before its first probe was due: as Docker's, a health monitor that stopped leaves it unhealthy.
  t.like(svc.State, { Status: 'exited', Running: false, Restarting: false, OOMKilled: false, ExitCode: 0 });
  t.deepEqual(svc.State.Health, { Status: 'unhealthy', FailingStreak: 0, Log: [] });
  t.is(svc.RestartCount, 0);
  t.is(svc.LogPath, join(store.root, 'containers', svc.Id, `${svc.Id}-json.log`));
  const ps = await cli(store.root, ['ps', '-a', '-f', 'name=svc', '-f', 'health=unhealthy', '--format', '{{.State}} {{.HealthStatus}} {{.Status}}']);
  t.regex(ps.stdout, /^exited unhealthy Exited \(0\) (Less than a second|\d+ seconds?) ago\n$/);
  t.is((await cli(store.root, ['ps', '-a', '-q', '-f', 'health=healthy'])).stdout, '');
});

test("the image's HEALTHCHECK is the default, merged with the flags; --no-healthcheck disables it; no flag records no restart", async (t) => {
  const context = await writeContext(scope, { Dockerfile: 'FROM bb\nHEALTHCHECK --interval=10s --retries=2 CMD ["/bin/true"]\n' });
  t.is((await cli(store.root, ['build', '-q', '-t', 'checked', context])).code, 0);
  for (const [name, flags] of [['inherits', []], ['merged', ['--health-timeout', '2s', '--health-retries', '4']], ['disabled', ['--no-healthcheck']]] as const) {
    const r = await cli(store.root, ['run', '--name', name, ...flags, 'checked', 'true']);
    t.is(r.code, 0, r.stderr);
  }
  t.deepEqual((await inspect('inherits')).Config.Healthcheck, { Test: ['CMD', '/bin/true'], Interval: 10e9, Retries: 2 });
  t.deepEqual((await inspect('merged')).Config.Healthcheck, { Test: ['CMD', '/bin/true'], Interval: 10e9, Timeout: 2e9, Retries: 4 });
  t.deepEqual((await inspect('disabled')).Config.Healthcheck, { Test: ['NONE'], Interval: 10e9, Retries: 2 });
  t.deepEqual((await inspect('inherits')).HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
});

for (const [flags, message] of [
  [['--restart', 'sometimes'], "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"],
  [['--restart', 'always:2'], "invalid restart policy: maximum retry count can only be used with 'on-failure'"],
  [['--restart', 'on-failure:-1'], 'invalid restart policy: maximum retry count cannot be negative'],
  [['--restart', 'on-failure:x'], 'invalid restart policy format: maximum retry count must be an integer'],
  [['--rm', '--restart', 'always'], 'conflicting options: cannot specify both --restart and --rm'],
  [['--health-interval', '-5s', '--health-cmd', 'true'], '--health-interval cannot be negative'],
  [['--health-timeout', '100us'], 'Timeout in Healthcheck cannot be less than 1ms'],
  [['--health-interval', '30'], 'invalid argument "30" for "--health-interval" flag: time: missing unit in duration "30"'],
  [['--health-retries', 'three'], 'invalid argument "three" for "--health-retries" flag: strconv.ParseInt: parsing "three": invalid syntax'],
  [['--no-healthcheck', '--health-cmd', 'true'], '--no-healthcheck conflicts with --health-* options'],
] as const) {
  test(`run ${flags.join(' ')}: one line, exit 125, nothing created`, async (t) => {
    const containers = join(store.root, 'containers');
    const before = (await readdir(containers)).sort();
    const r = await cli(store.root, ['run', '--name', 'never', ...flags, 'bb', 'true']);
    t.deepEqual([r.code, r.stdout, r.stderr], [125, '', `nbox: ${message}\n`]);
    t.deepEqual((await readdir(containers)).sort(), before);
    t.is((await cli(store.root, ['ps', '-a', '-q', '-f', 'name=never'])).stdout, '');
  });
}

// writeState replaces a container's state as its monitor would write it; the
// run that made it (its owner then) and its cgroup are gone.
async function writeState(name: string, state: Partial<ContainerState>): Promise<void> {
  const id = (await inspect(name)).Id as string;
  const file = join(store.root, 'containers', id, 'state.json');
  const written = { ...(JSON.parse(await readFile(file, 'utf8')) as ContainerState), owner: undefined, cgroup: undefined, ...state };
  await writeFile(file, JSON.stringify(written));
}

test('states a monitor writes (restarting, up and healthy, exited unhealthy) show in ps and inspect as in Docker', async (t) => {
  // A sleep of this test's own stands for the monitor (the owner) and the process of the one that runs.
  const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.teardown(async () => {
    sleeper.kill('SIGKILL');
    await exitCodeOf(sleeper);
  });
  const pid = sleeper.pid!;
  const monitor = { pid, startTime: processStartTime(pid), pidNamespace: pidNamespace() };
  for (const name of ['looping', 'serving', 'failed']) t.is((await cli(store.root, ['create', '--name', name, '--restart', 'always', 'bb', 'true'])).code, 0);
  const now = Date.now();
  const at = (msAgo: number) => new Date(now - msAgo).toISOString();
  const probe = { start: at(1500), end: at(1400), exitCode: 0, output: 'ok\n' };
  await writeState('looping', { status: 'restarting', owner: monitor, exitCode: 1, startedAt: at(3000), finishedAt: at(2000), restartCount: 4 });
  await writeState('serving', { status: 'running', owner: monitor, pid, pidStartTime: processStartTime(pid), startedAt: at(4000), restartCount: 1, health: { status: 'healthy', failingStreak: 0, log: [probe] } });
  await writeState('failed', { status: 'exited', exitCode: 137, oomKilled: true, startedAt: at(9000), finishedAt: at(5000), health: { status: 'unhealthy', failingStreak: 3, log: [{ ...probe, exitCode: 1 }] } });

  const ps = await cli(store.root, ['ps', '--format', '{{.Names}}|{{.State}}|{{.HealthStatus}}|{{.Status}}']);
  const rows = ps.stdout.trim().split('\n').map((line) => line.replace(/\d+ seconds?|Less than a second|About a minute|\d+ minutes/, 'N seconds'));
  t.deepEqual(rows.sort(), ['looping|restarting|none|Restarting (1) N seconds ago', 'serving|running|healthy|Up N seconds (healthy)']);
  // Among this test's containers: the others of this file run meanwhile.
  const own = ['looping', 'serving', 'failed'];
  const filtered = async (filter: string) => (await cli(store.root, ['ps', '-a', '-f', filter, '--format', '{{.Names}}'])).stdout.trim().split('\n').filter((name) => own.includes(name)).sort();
  t.deepEqual(await filtered('status=restarting'), ['looping']);
  t.deepEqual(await filtered('health=healthy'), ['serving']);
  t.deepEqual(await filtered('health=unhealthy'), ['failed']);
  t.deepEqual(await filtered('exited=137'), ['failed']);

  t.like((await inspect('looping')).State, { Status: 'restarting', Running: true, Restarting: true, Pid: 0, ExitCode: 1 });
  t.is((await inspect('looping')).RestartCount, 4);
  const serving = await inspect('serving');
  t.like(serving.State, { Status: 'running', Running: true, Pid: pid });
  t.deepEqual(serving.State.Health, { Status: 'healthy', FailingStreak: 0, Log: [{ Start: probe.start, End: probe.end, ExitCode: 0, Output: 'ok\n' }] });
  const failed = await inspect('failed');
  t.like(failed.State, { Status: 'exited', Running: false, OOMKilled: true, ExitCode: 137, Health: { Status: 'unhealthy', FailingStreak: 3 } });
  t.deepEqual(failed.HostConfig.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
  for (const name of ['looping', 'serving']) await writeState(name, { status: 'exited', pid: 0 });
  t.is((await cli(store.root, ['rm', 'looping', 'serving', 'failed'])).code, 0);
});
