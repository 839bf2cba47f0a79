// `run -d`: the container runs under an nbox-monitor, which outlives the CLI,
// records the container's end and removes a `--rm` one.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { cli, exitCodeOf, rootTest, sharedTestStore } from '../helpers/env';
import { alive, cgroupsOf, comm, endAtTeardown, monitors, parentOf, runDetached, runningState, stateOf, until } from '../helpers/detached';

const test = rootTest();
const store = sharedTestStore(test);

// A shell that has its handler in place (and says so) before it waits: until
// then pid 1 of a PID namespace would ignore the signal.
const trapped = (signal: string, code: number) => ['sh', '-c', `trap "exit ${code}" ${signal}; echo ready; sleep 60 & wait`];

/** nodesOf lists the node processes that still run against this store (the CLI's env names it). */
function nodesOf(root: string): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    try {
      return pid !== process.pid && comm(pid) === 'node' && readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`NBOX_ROOT=${root}`);
    } catch {
      return false;
    }
  });
}

test('run -d prints the full ID and returns while the container runs, a child of nbox-monitor with fds 0 1 2 only', async (t) => {
  const r = await cli(store.root, ['run', '-d', '--name', 'bg', 'bb', 'sleep', '60']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^[0-9a-f]{64}\n$/);
  const id = r.stdout.trim();
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', id])));
  const state = await runningState(store.root, id);
  t.true(alive(state.pid));
  const monitor = parentOf(state.pid);
  t.is(comm(monitor), 'nbox-monitor');
  t.deepEqual(monitors(id), [monitor]);
  t.is(state.owner?.pid, monitor);
  t.not(comm(parentOf(monitor)), 'node');
  t.deepEqual(nodesOf(store.root), []);
  t.deepEqual(readdirSync(`/proc/${state.pid}/fd`).sort(), ['0', '1', '2']);
  t.regex((await cli(store.root, ['ps'])).stdout, /Up .* bg\n/);
  t.true(cgroupsOf(id).length > 0);
});

test('exit 3 → Exited (3); the monitor and the cgroup are gone', async (t) => {
  const id = await runDetached(t, store.root, ['bb', ...trapped('USR1', 3)]);
  const state = await runningState(store.root, id);
  const monitor = state.owner!.pid;
  t.true(cgroupsOf(id).length > 0);
  await until('ready', () => (readFileSync(join(store.root, 'containers', id, `${id}-json.log`), 'utf8').includes('ready') ? true : undefined));
  t.is((await cli(store.root, ['kill', '-s', 'USR1', id])).code, 0);
  t.is((await cli(store.root, ['wait', id])).stdout, '3\n');
  await until('the monitor to exit', () => (alive(monitor) ? undefined : true));
  t.deepEqual(cgroupsOf(id), []);
  t.regex((await cli(store.root, ['ps', '-a', '--filter', `id=${id}`])).stdout, /Exited \(3\)/);
  const ended = stateOf(store.root, id)!;
  t.like(ended, { status: 'exited', exitCode: 3, error: '' });
  t.is(ended.owner, undefined);
});

test('--rm -d leaves no directory and no name', async (t) => {
  const id = await runDetached(t, store.root, ['--rm', '--name', 'gone', 'bb', 'true']);
  await until('the container to be removed', () => (existsSync(join(store.root, 'containers', id)) ? undefined : true));
  t.false(existsSync(join(store.root, 'names', 'gone')));
  await until('the monitor to exit', () => (monitors(id).length === 0 ? true : undefined));
  t.deepEqual(cgroupsOf(id), []);
  t.is((await cli(store.root, ['ps', '-a', '--filter', 'name=gone'])).stdout.split('\n').length, 2);
  t.deepEqual(readdirSync(join(store.root, 'tmp')).filter((name) => name.endsWith('-rm')), []);
});

test('run -d of a command that does not exist: the foreground line and 127, no monitor, no cgroup', async (t) => {
  const detached = await cli(store.root, ['run', '-d', '--name', 'nosuch', 'bb', 'nosuch']);
  const foreground = await cli(store.root, ['run', '--rm', 'bb', 'nosuch']);
  t.deepEqual([detached.code, detached.stdout, detached.stderr], [127, '', foreground.stderr]);
  t.is(detached.stderr, 'nbox: exec: "nosuch": executable file not found in $PATH\n');
  const id = (await store.nbox.container('nosuch')).id;
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', id])));
  // As Docker: a container whose command never ran stays Created, with the exit code and error.
  t.like(stateOf(store.root, id), { status: 'created', exitCode: 127 });
  t.is((await cli(store.root, ['ps', '-a', '--filter', 'name=^nosuch$', '--format', '{{.Status}}'])).stdout, 'Created\n');
  t.is((await cli(store.root, ['wait', 'nosuch'])).stdout, '127\n');
  await until('the monitor to exit', () => (monitors(id).length === 0 ? true : undefined));
  t.deepEqual(cgroupsOf(id), []);
  const removed = await cli(store.root, ['run', '-d', '--rm', '--name', 'nosuch-rm', 'bb', '/no/such']);
  t.deepEqual([removed.code, removed.stderr], [127, 'nbox: exec: "/no/such": stat /no/such: no such file or directory\n']);
  t.false(existsSync(join(store.root, 'names', 'nosuch-rm')));
});

test('exec, stop and wait on a -d container', async (t) => {
  const id = await runDetached(t, store.root, ['--name', 'svc', 'bb', ...trapped('TERM', 7)]);
  await runningState(store.root, id);
  const exec = await cli(store.root, ['exec', 'svc', 'sh', '-c', 'echo in $(hostname)']);
  t.deepEqual([exec.code, exec.stdout], [0, `in ${id.slice(0, 12)}\n`]);
  const top = await cli(store.root, ['top', 'svc']);
  t.regex(top.stdout, /sleep 60/);
  await until('ready', () => (readFileSync(join(store.root, 'containers', id, `${id}-json.log`), 'utf8').includes('ready') ? true : undefined));
  const waiting = cli(store.root, ['wait', 'svc']);
  const stopped = await cli(store.root, ['stop', 'svc']);
  t.deepEqual([stopped.code, stopped.stdout], [0, 'svc\n']);
  t.deepEqual([(await waiting).code, (await waiting).stdout], [0, '7\n']);
  t.regex((await cli(store.root, ['ps', '-a', '--filter', 'name=svc'])).stdout, /Exited \(7\)/);
});

test('pause, unpause and rm -f of a -d container', async (t) => {
  const id = await runDetached(t, store.root, ['--name', 'frozen', 'bb', 'sleep', '60']);
  const state = await runningState(store.root, id);
  t.is((await cli(store.root, ['pause', 'frozen'])).code, 0);
  t.regex((await cli(store.root, ['ps', '--filter', 'name=frozen'])).stdout, /\(Paused\)/);
  t.is((await cli(store.root, ['unpause', 'frozen'])).code, 0);
  const removed = await cli(store.root, ['rm', '-f', 'frozen']);
  t.deepEqual([removed.code, removed.stdout], [0, 'frozen\n']);
  await until('the monitor to exit', () => (alive(state.owner!.pid) ? undefined : true));
  t.false(alive(state.pid));
  t.false(existsSync(join(store.root, 'containers', id)));
  t.deepEqual(cgroupsOf(id), []);
});

test('the library: run({detach: true}) resolves with the ID once the command runs', async (t) => {
  const detached = await store.nbox.run('bb', { cmd: ['sleep', '60'], detach: true, name: 'lib' });
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', detached.id])));
  t.regex(detached.id, /^[0-9a-f]{64}$/);
  const { config, state } = await detached.record();
  t.is(config.name, 'lib');
  t.true(alive(state.pid));
  t.is(comm(parentOf(state.pid)), 'nbox-monitor');
  t.is((await store.nbox.containerRecord('lib')).state.status, 'running');
});

test('start runs a stopped container again under a new monitor, with its writable layer and its log', async (t) => {
  const script = 'echo x >> /runs; echo "run $(wc -l < /runs)"';
  const first = await cli(store.root, ['run', '--name', 'again', 'bb', 'sh', '-c', script]);
  t.deepEqual([first.code, first.stdout], [0, 'run 1\n']);
  const id = (await store.nbox.container('again')).id;
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', id])));
  for (const run of [2, 3]) {
    const started = await cli(store.root, ['start', 'again']);
    t.deepEqual([started.code, started.stdout, started.stderr], [0, 'again\n', '']);
    t.is((await cli(store.root, ['wait', 'again'])).stdout, '0\n');
    const log = readFileSync(join(store.root, 'containers', id, `${id}-json.log`), 'utf8');
    t.is(log.split('\n').filter((line) => line.includes(`"run ${run}\\n"`)).length, 1);
  }
  await until('the monitor to exit', () => (monitors(id).length === 0 ? true : undefined));
  t.deepEqual(cgroupsOf(id), []);
});

test('two concurrent starts (in one process, interleaved) make one monitor; restart gives the container a new init and monitor', async (t) => {
  const id = await runDetached(t, store.root, ['--name', 'twice', 'bb', 'sleep', '60']);
  await runningState(store.root, id);
  t.is((await cli(store.root, ['kill', 'twice'])).code, 0);
  t.is((await cli(store.root, ['wait', 'twice'])).stdout, '137\n');
  // In one process the two starts interleave at every await: only the lock keeps them apart.
  await Promise.all([store.nbox.startContainer('twice'), store.nbox.startContainer('twice')]);
  const state = await runningState(store.root, id);
  t.deepEqual(monitors(id), [state.owner!.pid]);
  t.is(parentOf(state.pid), state.owner!.pid);
  const restarted = await cli(store.root, ['restart', '-t', '0', 'twice']);
  t.deepEqual([restarted.code, restarted.stdout], [0, 'twice\n']);
  const again = await runningState(store.root, id);
  t.not(again.pid, state.pid);
  await until('the old monitor to exit', () => (alive(state.owner!.pid) ? undefined : true));
  t.deepEqual(monitors(id), [again.owner!.pid]);
  t.regex((await cli(store.root, ['ps', '--filter', 'name=twice'])).stdout, /Up /);
});

test('the library: create puts a container on record as Created; start runs it under a monitor', async (t) => {
  const created = await store.nbox.create('bb', { name: 'made', cmd: ['sh', '-c', 'echo from-created; exit 5'] });
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', created.id])));
  t.is((await cli(store.root, ['ps', '-a', '--filter', 'name=^made$', '--format', '{{.Status}}'])).stdout, 'Created\n');
  t.is((await created.record()).state.owner, undefined);
  await created.start();
  t.is(await created.wait(), 5);
  const logged: string[] = [];
  for await (const entry of created.logs()) logged.push(`${entry.stream}:${entry.line}`);
  t.deepEqual(logged, ['stdout:from-created']);
});

test('create prints the ID of a Created container that start runs; its output is in logs', async (t) => {
  const created = await cli(store.root, ['create', '--name', 'cli-made', '-e', 'WHO=made', 'bb', 'sh', '-c', 'echo $WHO']);
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', 'cli-made'])));
  t.is(created.code, 0, created.stderr);
  t.regex(created.stdout, /^[0-9a-f]{64}\n$/);
  t.is((await cli(store.root, ['container', 'ls', '-a', '--filter', 'name=cli-made', '--format', '{{.Status}}'])).stdout, 'Created\n');
  t.is((await cli(store.root, ['start', 'cli-made'])).code, 0);
  t.is((await cli(store.root, ['wait', 'cli-made'])).stdout, '0\n');
  t.is((await cli(store.root, ['logs', 'cli-made'])).stdout, 'made\n');
  const refused = await cli(store.root, ['create', '--restart', 'bogus', 'bb']);
  t.is(refused.code, 125);
});

// sparesMarked are the live monitors spawned ahead (the spare's all-zero ID) whose environment carries marker: a
// fault step that is never reached, which names the test process's own spares among other files'.
function sparesMarked(marker: string): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    try {
      return alive(pid) && comm(pid) === 'nbox-monitor' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1] === '0'.repeat(64)
        && readFileSync(`/proc/${pid}/environ`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  });
}

test("a library process keeps a monitor spawned ahead: its next detached run takes it, under the container's ID; it ends with the process", async (t) => {
  const marker = `NBOX_TEST_STOP_AT=monitor:never-${process.pid}-${Date.now()}`;
  const script = `
    const { Nbox } = require(${JSON.stringify(join(__dirname, '../../src/api.js'))});
    const next = () => new Promise((go) => process.stdin.once('data', go));
    (async () => {
      const nbox = await Nbox.open({ root: ${JSON.stringify(store.root)} });
      for (let i = 0; i < 3; i++) {
        console.log((await nbox.run('bb', { cmd: ['sleep', '60'], detach: true, network: 'none' })).id);
        await next();
      }
      process.stdin.destroy();
    })();`;
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, NBOX_TEST_STOP_AT: marker.split('=')[1] }, stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const ids = () => out.split('\n').filter((line) => /^[0-9a-f]{64}$/.test(line));
  const [first] = await until('the first container', () => (ids().length === 1 ? ids() : undefined));
  endAtTeardown(t, store.root, first);
  const [spare] = await until('a spare monitor', () => (sparesMarked(marker).length === 1 ? sparesMarked(marker) : undefined));
  // Made as the last run's container was: with the network namespace of a --network none one ready.
  t.is(readFileSync(`/proc/${spare}/cmdline`, 'utf8').split('\0')[2], 'netns');
  child.stdin.write('go\n');
  const second = await until('the second container', () => ids()[1]);
  endAtTeardown(t, store.root, second);
  t.deepEqual(monitors(second), [spare], 'the spare became its monitor, named by its ID');
  const [next] = await until('the next spare', () => (sparesMarked(marker).length === 1 ? sparesMarked(marker) : undefined));
  t.not(next, spare);
  // A spare killed while it waits is passed over: the next run spawns its monitor afresh.
  process.kill(next, 'SIGKILL');
  await until('the killed spare to go', () => (alive(next) ? undefined : true));
  child.stdin.write('go\n');
  const third = await until('the third container', () => ids()[2]);
  endAtTeardown(t, store.root, third);
  t.is(monitors(third).length, 1);
  const [last] = await until('a spare again', () => (sparesMarked(marker).length === 1 ? sparesMarked(marker) : undefined));
  child.stdin.write('go\n');
  await exitCodeOf(child);
  await until('the spare to end with its process', () => (alive(last) ? undefined : true));
  // The CLI, one container per process, keeps none.
  const cliMarker = `monitor:never-cli-${process.pid}`;
  const id = (await cli(store.root, ['run', '-d', 'bb', 'sleep', '60'], { env: { ...process.env, NBOX_ROOT: store.root, NBOX_TEST_STOP_AT: cliMarker } })).stdout.trim();
  endAtTeardown(t, store.root, id);
  t.deepEqual(sparesMarked(cliMarker), []);
  for (const container of [first, second, third, id]) t.is((await cli(store.root, ['rm', '-f', container])).code, 0);
});
