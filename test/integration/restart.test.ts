// Restart policies in the monitor (native/monitor.c), against the rules of
// src/runtime/restart-policy.ts: which ends run the container again, how the
// stop marker of stop/kill/rm cancels that, and `rm -f` between two runs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { cli, rootTest, sharedTestStore } from '../helpers/env';
import { alive, monitors, runDetached, runningState, stateOf, until, type State } from '../helpers/detached';

const test = rootTest();
const store = sharedTestStore(test);

type RestartState = State & { restartCount: number };
const stateWithCount = (id: string) => stateOf(store.root, id) as RestartState | null;

/** ended waits for the monitor to be gone and returns the state it left. */
async function ended(id: string): Promise<RestartState> {
  await until(`${id}'s monitor to exit`, () => (monitors(id).length === 0 ? true : undefined));
  return stateWithCount(id)!;
}

test('on-failure:2 with exit 1 restarts twice, then stays Exited (1)', async (t) => {
  const id = await runDetached(t, store.root, ['--restart', 'on-failure:2', 'bb', 'sh', '-c', 'exit 1']);
  const state = await ended(id);
  t.like(state, { status: 'exited', exitCode: 1, restartCount: 2 });
  t.regex((await cli(store.root, ['ps', '-a', '--filter', `id=${id}`])).stdout, /Exited \(1\)/);
});

test('on-failure does not restart a command that exits 0', async (t) => {
  const id = await runDetached(t, store.root, ['--restart', 'on-failure', 'bb', 'true']);
  t.like(await ended(id), { status: 'exited', exitCode: 0, restartCount: 0 });
});

test('always restarts after a host kill -9 of the init, with a new pid; stop then keeps it stopped', async (t) => {
  const id = await runDetached(t, store.root, ['--restart', 'always', 'bb', 'sleep', '60']);
  const first = await runningState(store.root, id);
  process.kill(first.pid, 'SIGKILL');
  const second = await until('the restart', () => {
    const s = stateWithCount(id);
    return s?.status === 'running' && s.restartCount === 1 ? s : undefined;
  });
  t.not(second.pid, first.pid);
  t.true(alive(second.pid));
  t.is((await cli(store.root, ['stop', '-t', '1', id])).code, 0);
  const state = await ended(id);
  t.like(state, { status: 'exited', restartCount: 1 });
  t.regex((await cli(store.root, ['ps', '-a', '--filter', `id=${id}`])).stdout, /Exited \(\d+\)/);
});

test('unless-stopped: a kill ends it for good', async (t) => {
  const id = await runDetached(t, store.root, ['--restart', 'unless-stopped', 'bb', 'sleep', '60']);
  await runningState(store.root, id);
  t.is((await cli(store.root, ['kill', id])).code, 0);
  t.like(await ended(id), { status: 'exited', exitCode: 137, restartCount: 0 });
});

test('start clears the marker: a stopped always container restarts again after start', async (t) => {
  const id = await runDetached(t, store.root, ['--restart', 'always', 'bb', 'sleep', '60']);
  await runningState(store.root, id);
  t.is((await cli(store.root, ['kill', id])).code, 0);
  await ended(id);
  t.true(existsSync(join(store.root, 'containers', id, 'stopped')));
  t.is((await cli(store.root, ['start', id])).code, 0);
  t.false(existsSync(join(store.root, 'containers', id, 'stopped')));
  const running = await runningState(store.root, id);
  process.kill(running.pid, 'SIGKILL');
  await until('the restart', () => (stateWithCount(id)?.restartCount === 1 ? true : undefined));
});

test('a restarting container shows Restarting in ps, and rm -f removes it and its monitor', async (t) => {
  const id = await runDetached(t, store.root, ['--restart', 'always', 'bb', 'sh', '-c', 'exit 2']);
  // Runs of a few ms double the delay each time: soon it waits long enough to be seen.
  await until('Restarting in ps', async () => {
    const out = (await cli(store.root, ['ps', '--filter', `id=${id}`])).stdout;
    return /Restarting \(\d+\) .* ago/.test(out) ? true : undefined;
  });
  const monitor = stateWithCount(id)!.owner!.pid;
  const r = await cli(store.root, ['rm', '-f', id]);
  t.is(r.code, 0, r.stderr);
  t.false(existsSync(join(store.root, 'containers', id)));
  await until('the monitor to exit', () => (alive(monitor) ? undefined : true));
  t.deepEqual(monitors(id), []);
});

test('rm without -f refuses a restarting container', async (t) => {
  const id = await runDetached(t, store.root, ['--restart', 'always', 'bb', 'sh', '-c', 'exit 2']);
  await until('restarting', () => (stateWithCount(id)?.status === 'restarting' ? true : undefined));
  const r = await cli(store.root, ['rm', id]);
  t.is(r.code, 1);
  t.regex(r.stderr, /container is (restarting|running)/);
});

