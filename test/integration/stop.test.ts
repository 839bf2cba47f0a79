// `kill`, `stop` and `wait` from another nbox process, on a container this
// test process runs through the library (its owner, which records its end).
import type { ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { RunningContainer } from '../../src/api';
import { alive, cgroupsOf, runDetached, runningState, until } from '../helpers/detached';
import { cli, makeRootfs, rootTest, sharedTestStore, tarOf } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

// A container whose init has its handlers in place once it printed "ready":
// until then pid 1 of a PID namespace would ignore the signal.
async function serve(t: ExecutionContext, name: string, script: string, image = 'bb'): Promise<RunningContainer> {
  const container = await store.nbox.run(image, { cmd: ['sh', '-c', `${script}; echo ready; sleep 60 & wait`], name, stdio: 'pipe' });
  t.teardown(async () => container[Symbol.asyncDispose]());
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    container.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('ready')) resolve();
    });
    container.exited.then(() => reject(new Error(`${name} exited before it was ready`)), reject);
  });
  return container;
}

test('kill -s sends that signal to the init; wait prints the exit code its owner recorded', async (t) => {
  const container = await serve(t, 'trapper', 'trap "exit 3" TERM');
  const killed = await cli(store.root, ['kill', '-s', 'TERM', 'trapper']);
  t.deepEqual([killed.code, killed.stdout, killed.stderr], [0, 'trapper\n', '']);
  t.is((await container.exited).exitCode, 3);
  const waited = await cli(store.root, ['wait', 'trapper']);
  t.deepEqual([waited.code, waited.stdout], [0, '3\n']);
});

test('wait blocks until the container ends', async (t) => {
  await serve(t, 'waited', 'trap "exit 5" USR1');
  const waiting = cli(store.root, ['wait', 'waited']);
  const killed = await cli(store.root, ['kill', '--signal', 'SIGUSR1', 'waited']);
  t.is(killed.code, 0, killed.stderr);
  t.deepEqual([(await waiting).code, (await waiting).stdout], [0, '5\n']);
});

test('stop sends SIGTERM, and kills the container when it outlives -t', async (t) => {
  const container = await serve(t, 'stubborn', 'trap "" TERM');
  const stopped = await cli(store.root, ['stop', '-t', '1', 'stubborn']);
  t.deepEqual([stopped.code, stopped.stdout], [0, 'stubborn\n']);
  t.deepEqual(await container.exited, { exitCode: null, signal: 'SIGKILL' });
  t.is((await cli(store.root, ['wait', 'stubborn'])).stdout, '137\n');
});

test("stop sends the image's STOPSIGNAL", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-stop-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await store.nbox.importImage(tarOf(await makeRootfs(dir)), { tags: ['usr1:latest'], changes: ['STOPSIGNAL SIGUSR1'] });
  const container = await serve(t, 'polite', 'trap "exit 7" USR1', 'usr1');
  t.is((await cli(store.root, ['stop', 'polite'])).code, 0);
  t.is((await container.exited).exitCode, 7);
});

// serveDetached is `run -d FLAGS bb` of a script, once its init printed "ready" (its traps are set).
async function serveDetached(t: ExecutionContext, flags: string[], script: string): Promise<string> {
  const id = await runDetached(t, store.root, [...flags, 'bb', 'sh', '-c', `${script}; echo ready; sleep 60 & wait`]);
  await until('ready', async () => ((await cli(store.root, ['logs', id])).stdout.includes('ready') ? true : undefined));
  return id;
}

test('run --stop-signal: stop sends that signal, and inspect shows it', async (t) => {
  const id = await serveDetached(t, ['--stop-signal', 'USR1'], 'trap "exit 7" USR1');
  const stopped = await cli(store.root, ['stop', id]);
  t.deepEqual([stopped.code, stopped.stderr], [0, '']);
  const inspected = await cli(store.root, ['inspect', '-f', '{{.Config.StopSignal}} {{.State.ExitCode}}', id]);
  t.is(inspected.stdout, 'USR1 7\n');
});

test('run --stop-timeout: stop kills a container that ignores TERM once that wait is over; inspect shows it', async (t) => {
  const id = await serveDetached(t, ['--stop-timeout', '1'], 'trap "" TERM');
  t.is((await cli(store.root, ['stop', id])).code, 0);
  const inspected = await cli(store.root, ['inspect', '-f', '{{.Config.StopTimeout}} {{.State.ExitCode}}', id]);
  t.is(inspected.stdout, '1 137\n');
});

test('restart uses the container\'s --stop-signal too', async (t) => {
  const id = await serveDetached(t, ['--stop-signal', 'SIGUSR2'], 'trap "echo got-usr2; exit 0" USR2');
  t.is((await cli(store.root, ['restart', id])).code, 0);
  await until('restarted', async () => ((await cli(store.root, ['logs', id])).stdout.split('ready').length === 3 ? true : undefined));
  t.true((await cli(store.root, ['logs', id])).stdout.includes('got-usr2'));
});

test('a bad --stop-signal or --stop-timeout: Docker\'s message, exit 125, nothing created', async (t) => {
  for (const verb of ['run', 'create']) {
    const badSignal = await cli(store.root, [verb, '--name', 'badstop', '--stop-signal', 'NOPE', 'bb', 'true']);
    t.deepEqual([badSignal.code, badSignal.stderr], [125, 'nbox: Invalid signal: NOPE\n'], verb);
    const badTimeout = await cli(store.root, [verb, '--name', 'badstop', '--stop-timeout', 'ten', 'bb', 'true']);
    t.deepEqual([badTimeout.code, badTimeout.stderr], [125, 'nbox: invalid argument "ten" for "--stop-timeout" flag: strconv.ParseInt: parsing "ten": invalid syntax\n'], verb);
  }
  t.is((await cli(store.root, ['ps', '-a', '-q', '-f', 'name=badstop'])).stdout, '');
});

test('kill of a stopped container, or with a bad signal, fails with one line and exit 1; stop of a stopped one succeeds', async (t) => {
  const container = await serve(t, 'ended', 'true');
  container.kill('SIGKILL');
  await container.exited;
  const id = (await store.nbox.listContainers({ all: true })).find((c) => c.config.name === 'ended')!.config.id;
  const notRunning = await cli(store.root, ['kill', 'ended']);
  t.deepEqual([notRunning.code, notRunning.stderr], [1, `nbox: cannot kill container: ended: container ${id} is not running\n`]);
  const badSignal = await cli(store.root, ['kill', '-s', 'NOPE', 'ended']);
  t.deepEqual([badSignal.code, badSignal.stderr], [1, 'nbox: Invalid signal: NOPE\n']);
  const stopped = await cli(store.root, ['stop', 'ended']);
  t.deepEqual([stopped.code, stopped.stdout], [0, 'ended\n']);
});

test('kill, stop and wait of an unknown container: No such container, exit 1', async (t) => {
  for (const verb of ['kill', 'stop', 'wait']) {
    const r = await cli(store.root, [verb, 'ghost']);
    t.deepEqual([r.code, r.stderr], [1, 'nbox: No such container: ghost\n'], verb);
  }
});

test("top lists the container's processes with ps's columns, and only those", async (t) => {
  await serve(t, 'busy', 'true');
  const r = await cli(store.root, ['top', 'busy']);
  t.is(r.code, 0, r.stderr);
  const [header, ...rows] = r.stdout.trim().split('\n');
  t.regex(header, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
  t.is(rows.length, 2, r.stdout);
  t.true(rows.some((row) => row.endsWith(' sh -c true; echo ready; sleep 60 & wait')), r.stdout);
  t.true(rows.some((row) => row.endsWith(' sleep 60')), r.stdout);
  const custom = await cli(store.root, ['top', 'busy', '-o', 'pid,comm']);
  t.deepEqual(custom.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).pop()), ['COMMAND', 'sh', 'sleep']);
});

test('top of a stopped container: one line, exit 1', async (t) => {
  const container = await serve(t, 'gone', 'true');
  container.kill('SIGKILL');
  await container.exited;
  const r = await cli(store.root, ['top', 'gone']);
  t.is(r.code, 1);
  t.regex(r.stderr, /^nbox: container [0-9a-f]{64} is not running\n$/);
});

test('pause freezes every process of the container and unpause thaws them; ps, inspect and the status filter say so', async (t) => {
  const container = await store.nbox.run('bb', { cmd: ['sh', '-c', 'while :; do echo tick; usleep 20000; done'], name: 'ticker', stdio: 'pipe' });
  t.teardown(async () => container[Symbol.asyncDispose]());
  let ticks = 0;
  container.stdout!.on('data', (chunk: Buffer) => void (ticks += chunk.toString().split('tick').length - 1));
  const ticksOver = async (ms: number) => {
    const before = ticks;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return ticks - before;
  };
  t.true((await ticksOver(300)) > 0, 'it ticks while running');
  t.deepEqual((await cli(store.root, ['pause', 'ticker'])).stdout, 'ticker\n');
  await ticksOver(100); // what was written before the freeze drains
  t.is(await ticksOver(400), 0, 'no tick while paused');
  t.regex((await cli(store.root, ['ps', '--format', '{{.Status}} {{.State}}', '-f', 'name=ticker'])).stdout, /^Up .* \(Paused\) paused\n$/);
  t.is((await cli(store.root, ['ps', '-q', '-f', 'status=paused'])).stdout.trim().split('\n').length, 1);
  t.is((await cli(store.root, ['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'ticker'])).stdout, 'paused true\n');
  const exec = await cli(store.root, ['exec', 'ticker', 'true']);
  t.is(exec.code, 1);
  t.regex(exec.stderr, /^nbox: Container [0-9a-f]{64} is paused, unpause the container first\n$/);
  const again = await cli(store.root, ['pause', 'ticker']);
  t.is(again.code, 1);
  t.regex(again.stderr, /^nbox: container [0-9a-f]{64} is already paused\n$/);
  t.is((await cli(store.root, ['unpause', 'ticker'])).code, 0);
  t.true((await ticksOver(300)) > 0, 'it ticks again');
  t.is((await cli(store.root, ['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'ticker'])).stdout, 'running false\n');
  const notPaused = await cli(store.root, ['unpause', 'ticker']);
  t.regex(notPaused.stderr, /^nbox: container [0-9a-f]{64} is not paused\n$/);
});

test('a paused container is still stopped by stop: the kill through its cgroup thaws it', async (t) => {
  const container = await serve(t, 'frozen', 'true');
  t.is((await cli(store.root, ['pause', 'frozen'])).code, 0);
  t.is((await cli(store.root, ['stop', '-t', '0', 'frozen'])).code, 0);
  t.deepEqual(await container.exited, { exitCode: null, signal: 'SIGKILL' });
});

test('rm -f ends every process of the container, an exec\'d one too, and a paused container as well', async (t) => {
  for (const paused of [false, true]) {
    const id = await runDetached(t, store.root, ['bb', 'sleep', '600']);
    await runningState(store.root, id);
    t.is((await cli(store.root, ['exec', '-d', id, 'sleep', '601'])).code, 0);
    // The exec'd sleep, found through the container's cgroup (its pid as the host sees it).
    const procs = cgroupsOf(id).find((dir) => dir.includes('/pids/'))!;
    const pids = await until('the exec\'d sleep', () => {
      const listed = readFileSync(join(procs, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
      return listed.length >= 2 ? listed : undefined;
    });
    if (paused) t.is((await cli(store.root, ['pause', id])).code, 0);
    const removed = await cli(store.root, ['rm', '-f', id]);
    t.deepEqual([removed.code, removed.stdout, removed.stderr], [0, `${id}\n`, ''], paused ? 'paused' : 'running');
    await until('every process gone', () => (pids.some(alive) ? undefined : true), 5000);
    t.deepEqual(cgroupsOf(id), []);
  }
});

test('the lifecycle verbs take several containers, as Docker\'s: each name printed, an unknown one named and the exit code 1', async (t) => {
  const script = 'trap "exit 0" TERM; while :; do sleep 0.1; done';
  for (const name of ['multi-a', 'multi-b']) await runDetached(t, store.root, ['--name', name, 'bb', 'sh', '-c', script]);
  const ps = async () => (await cli(store.root, ['ps', '-a', '--filter', 'name=multi-', '--format', '{{.Names}} {{.State}}'])).stdout.split('\n').filter(Boolean).sort();
  const both = ['multi-a', 'multi-b'];
  for (const verb of ['pause', 'unpause', 'restart', 'stop', 'start', 'kill']) {
    const r = await cli(store.root, [verb, ...both]);
    t.deepEqual([r.code, r.stdout, r.stderr], [0, 'multi-a\nmulti-b\n', ''], verb);
    if (verb === 'pause') t.deepEqual(await ps(), ['multi-a paused', 'multi-b paused']);
    if (verb === 'stop' || verb === 'kill') t.deepEqual(await ps(), ['multi-a exited', 'multi-b exited'], verb);
    if (verb === 'start' || verb === 'restart') t.deepEqual(await ps(), ['multi-a running', 'multi-b running'], verb);
  }
  const waited = await cli(store.root, ['wait', ...both]);
  t.deepEqual([waited.code, waited.stdout], [0, '137\n137\n']);
  const partly = await cli(store.root, ['start', 'multi-a', 'ghost', 'multi-b']);
  t.deepEqual([partly.code, partly.stdout], [1, 'multi-a\nmulti-b\n']);
  t.regex(partly.stderr, /No such container: ghost/);
  t.deepEqual(await ps(), ['multi-a running', 'multi-b running']);
});
