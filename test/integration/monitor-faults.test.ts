// What happens to a `run -d` container when its monitor or its caller dies.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { cli, rootTest, sharedTestStore } from '../helpers/env';
import { alive, cgroupsOf, comm, endAtTeardown, parentOf, runDetached, runningState, stateOf, until } from '../helpers/detached';

const test = rootTest();
const store = sharedTestStore(test);

const API = resolve(__dirname, '../../src/api.js');
let work = '';
let attacks = '';

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'nbox-monitor-faults-'));
  attacks = join(work, 'attacks');
  execFileSync('gcc', ['-static', '-O1', '-o', attacks, resolve(__dirname, '../../../test/fixtures/attacks/attacks.c')]);
});
test.after.always(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('kill -9 of the monitor takes the container along: Exited (137), its cgroup swept, no mount left', async (t) => {
  const id = await runDetached(t, store.root, ['bb', 'sleep', '60']);
  const state = await runningState(store.root, id);
  process.kill(state.owner!.pid, 'SIGKILL');
  // The init's parent-death signal fires with the monitor; PID 1 takes its namespace and mounts along.
  await until('the init to die', () => (alive(state.pid) ? undefined : true));
  const ps = await until('ps -a to show the end', async () => {
    const out = (await cli(store.root, ['ps', '-a', '--filter', `id=${id}`])).stdout;
    return /Exited \(137\)/.test(out) ? out : undefined;
  });
  t.regex(ps, /Exited \(137\)/);
  await until('the sweep to remove the cgroup', async () => {
    await cli(store.root, ['ps', '-a']);
    return cgroupsOf(id).length === 0 ? true : undefined;
  });
  t.like(stateOf(store.root, id), { status: 'exited', exitCode: 137 });
  t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(id));
});

test('a container that clears its parent-death signal outlives a killed monitor until the next store open kills it', async (t) => {
  const id = await runDetached(t, store.root, ['-v', `${attacks}:/attacks:ro`, 'bb', '/attacks', 'nopdeath', '300']);
  const state = await runningState(store.root, id);
  t.teardown(() => {
    try {
      process.kill(state.pid, 'SIGKILL');
    } catch {
      // Ended, as it should be.
    }
  });
  await until('ready', () => (readFileSync(join(store.root, 'containers', id, `${id}-json.log`), 'utf8').includes('ready') ? true : undefined));
  process.kill(state.owner!.pid, 'SIGKILL');
  await until('the monitor to die', () => (alive(state.owner!.pid) ? undefined : true));
  // The parent-death signal alone does not end it. Any nbox process on this machine sweeps the cgroups of
  // dead owners when it opens a store (another test file's, say), so it may be gone already: then that
  // sweep did what the `ps` below is to do.
  if (!alive(state.pid)) t.log('swept by a concurrent nbox before the ps below');
  t.regex((await cli(store.root, ['ps', '-a', '--filter', `id=${id}`])).stdout, /Exited \(137\)/);
  // That store open killed it through its cgroup.
  await until('the sweep to kill it', () => (alive(state.pid) ? undefined : true));
  t.deepEqual(cgroupsOf(id), []);
});

test('SIGTERM to the monitor kills the container and records 137 with an error', async (t) => {
  const id = await runDetached(t, store.root, ['bb', 'sleep', '60']);
  const state = await runningState(store.root, id);
  process.kill(state.owner!.pid, 'SIGTERM');
  await until('the monitor to exit', () => (alive(state.owner!.pid) ? undefined : true));
  t.false(alive(state.pid));
  const ended = stateOf(store.root, id)!;
  t.like(ended, { status: 'exited', exitCode: 137 });
  t.regex(ended.error, /nbox-monitor was terminated/);
  t.deepEqual(cgroupsOf(id), []);
  t.regex((await cli(store.root, ['ps', '-a', '--filter', `id=${id}`])).stdout, /Exited \(137\)/);
});

test('kill -9 of a library process after run({detach: true}) resolved: the container runs on', async (t) => {
  const script = `
    const { Nbox } = require(${JSON.stringify(API)});
    Nbox.open({ root: ${JSON.stringify(store.root)} })
      .then((nbox) => nbox.run('bb', { cmd: ['sleep', '60'], detach: true }))
      .then((c) => { console.log(c.id); setInterval(() => {}, 1000); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const id = await until('the ID', () => (/^[0-9a-f]{64}\n/.test(out) ? out.trim() : undefined));
  endAtTeardown(t, store.root, id);
  child.kill('SIGKILL');
  await until('the library process to die', () => (child.exitCode !== null || child.signalCode !== null ? true : undefined));
  const state = await runningState(store.root, id);
  t.true(alive(state.pid));
  t.is(comm(parentOf(state.pid)), 'nbox-monitor');
  t.regex((await cli(store.root, ['ps', '--filter', `id=${id}`])).stdout, /Up /);
});
