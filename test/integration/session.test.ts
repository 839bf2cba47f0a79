// Session containers (RunOptions.session): a program's containers go when the
// program dies, even by SIGKILL: no record, mount, cgroup, lease, namespace or
// process is left. The program is a node script this file writes, which uses
// the library of this tree; the checks read the host and the store's files
// directly (no nbox command, whose store open would sweep them itself) before
// `nbox ps -a` has the last word. The bridge, subnet and table are this file's
// own (NBOX_BRIDGE*), and its end removes whatever a failed test left.
import type { ExecutionContext } from 'ava';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { cli, rootTest, sharedTestStore } from '../helpers/env';
import { alive, cgroupsOf, comm, monitors, until } from '../helpers/detached';

const test = rootTest();
const BRIDGE = `nbs${process.pid % 100000}`;
const SUBNET = `10.89.${100 + (process.pid % 150)}.0/24`;
const TABLE = `nbox_${BRIDGE}`;
const STATE = '/run/nbox/networks';
process.env.NBOX_BRIDGE = BRIDGE;
process.env.NBOX_BRIDGE_SUBNET = SUBNET;

const API = resolve(__dirname, '../../src/api.js');

const store = sharedTestStore(test);

test.after.always(async () => {
  // The owners' reapers and their sweeps end first: a late sweep would make the network's files again.
  await until('the reapers to end', () => (sweepers().length === 0 ? true : undefined)).catch(() => {});
  for (const name of existsSync(STATE) ? readdirSync(STATE) : []) {
    if (!name.startsWith(BRIDGE)) continue;
    quiet('umount', ['-l', `${STATE}/${name}`]);
    rmSync(`${STATE}/${name}`, { force: true });
  }
  quiet('ip', ['link', 'del', BRIDGE]);
  quiet('nft', ['delete', 'table', 'ip', TABLE]);
});

// sweepers are this file's reapers and the sweeps they run (the store's path is among their arguments).
function sweepers(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    try {
      return alive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(store.root);
    } catch {
      return false;
    }
  });
}

function quiet(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

/** Started is what the owner script reports once its containers run. */
interface Started {
  owner: number;
  /** Every container it made: a detached one with a published port, a foreground one, one that exited, one created,
   * and one of run()'s harness form. */
  ids: string[];
  /** The inits of the running ones. */
  pids: number[];
}

// The owner: opens the store, starts its session containers, prints them, then
// lives on (or, with `exit`, leaves at once without any cleanup of its own).
const OWNER = `
const { Nbox } = require(${JSON.stringify(API)});
(async () => {
  const nbox = await Nbox.open({ root: process.argv[2] });
  const detached = await nbox.run('bb', { detach: true, session: true, publish: ['127.0.0.1::8080'], cmd: ['sleep', '1000'] });
  const foreground = await nbox.run('bb', { session: true, stdio: 'ignore', cmd: ['sleep', '1000'] });
  const exited = await nbox.run('bb', { detach: true, session: true, network: 'none', cmd: ['true'] });
  await exited.wait();
  const created = await nbox.create('bb', { session: true, cmd: ['true'] });
  // The harness form, without detach: true, is a session one with no flag.
  const harness = await nbox.run('bb', { network: 'none', cmd: ['sleep', '1000'] });
  const pid = (await detached.record()).state.pid;
  const ids = [detached.id, foreground.id, exited.id, created.id, harness.id];
  process.stdout.write(JSON.stringify({ owner: process.pid, ids, pids: [pid, foreground.pid, (await harness.record()).state.pid] }) + '\\n');
  if (process.argv[3] === 'exit') process.exit(0);
  setInterval(() => {}, 1 << 30);
})().catch((err) => { console.error(err); process.exit(3); });
`;

/** startOwner runs the owner script and resolves with what it started; teardown ends all of it. */
async function startOwner(t: ExecutionContext, mode: 'live' | 'exit'): Promise<{ child: ChildProcess; started: Started }> {
  const script = join(store.root, '..', `owner-${mode}.js`);
  writeFileSync(script, OWNER);
  const child = spawn(process.execPath, [script, store.root, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let ids: string[] = [];
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const id of ids) {
      for (const pid of monitors(id)) quietKill(pid);
      await cli(store.root, ['rm', '-f', '-v', id]);
    }
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const started = await new Promise<Started>((resolveStarted, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolveStarted(JSON.parse(out) as Started);
    });
    child.once('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`owner exited ${code}: ${err}`));
    });
  });
  ids = started.ids;
  return { child, started };
}

function quietKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

const leases = (): Record<string, { netns: string }> => {
  try {
    return JSON.parse(readFileSync(`${STATE}/${BRIDGE}.json`, 'utf8'));
  } catch {
    return {};
  }
};
const recorded = () => readdirSync(join(store.root, 'containers'));
const storeMounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(store.root));
const namespaces = (id: string) => (existsSync(STATE) ? readdirSync(STATE) : []).filter((name) => name === `${BRIDGE}-${id}`);

// cgroups are a container's cgroup dirs; a find that raced with their removal reads as not settled yet.
function cgroups(id: string): string[] {
  try {
    return cgroupsOf(id);
  } catch {
    return ['(being removed)'];
  }
}

/** leftovers lists what the containers still hold on the host and in the store; empty once all is gone. */
function leftovers(started: Started): string[] {
  return [
    ...recorded().map((id) => `record ${id}`),
    ...storeMounts().map((line) => `mount ${line}`),
    ...started.ids.flatMap((id) => [
      ...(leases()[id] ? [`lease ${id}`] : []),
      ...namespaces(id).map((name) => `netns ${name}`),
      ...cgroups(id).map((dir) => `cgroup ${dir}`),
      ...monitors(id).map((pid) => `monitor ${pid}`),
    ]),
    ...started.pids.filter(alive).map((pid) => `process ${pid}`),
  ];
}

/** assertAllGone waits (boundedly) until nothing of the session is left, then asks `nbox ps -a`. */
async function assertAllGone(t: ExecutionContext, started: Started): Promise<void> {
  await untilNothingLeft(t, started);
  await assertNoneListed(t);
}

async function untilNothingLeft(t: ExecutionContext, started: Started): Promise<void> {
  await until('the session to leave nothing', () => (leftovers(started).length === 0 ? true : undefined), 30000)
    .catch((err: Error) => t.fail(`${err.message}: ${leftovers(started).join('; ')}`));
}

async function assertNoneListed(t: ExecutionContext): Promise<void> {
  const ps = await cli(store.root, ['ps', '-a', '-q']);
  t.is(ps.code, 0, ps.stderr);
  t.is(ps.stdout, '');
}

/** assertRunning checks that the session's containers exist before their owner goes, so their absence after means something. */
function assertRunning(t: ExecutionContext, started: Started): void {
  t.deepEqual(recorded().sort(), [...started.ids].sort());
  const [detached, foreground] = started.ids;
  t.truthy(leases()[detached], 'the detached container has a lease');
  t.truthy(leases()[foreground], 'the foreground container has a lease');
  t.true(started.pids.every(alive));
  t.true(cgroups(detached).length > 0 && cgroups(foreground).length > 0);
}

/** reaperOf is the owner's nbox-reaper (its first argument is the owner's pid). */
function reaperOf(owner: number): number | undefined {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).find((pid) => {
    try {
      return comm(pid) === 'nbox-reaper' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1] === String(owner);
    } catch {
      return false;
    }
  });
}

test('SIGKILL of the owner: its session containers leave no record, mount, lease, cgroup or process', async (t) => {
  const { child, started } = await startOwner(t, 'live');
  assertRunning(t, started);
  child.kill('SIGKILL');
  const killed = Date.now();
  await untilNothingLeft(t, started);
  t.log(`all gone ${Date.now() - killed} ms after the kill`);
  await assertNoneListed(t);
});

test('an owner that exits without cleaning up leaves nothing either', async (t) => {
  const { child, started } = await startOwner(t, 'exit');
  await new Promise((resolveExit) => (child.exitCode === null ? child.once('exit', resolveExit) : resolveExit(null)));
  await assertAllGone(t, started);
});

test('with the reaper killed too, the monitor still kills its container and the next store open removes the session', async (t) => {
  const { child, started } = await startOwner(t, 'live');
  const reaper = reaperOf(started.owner);
  t.truthy(reaper, 'the owner has a reaper');
  quietKill(reaper!);
  await until('the reaper to go', () => (alive(reaper!) ? undefined : true));
  child.kill('SIGKILL');
  // The foreground container dies with its parent, the detached one by its monitor, which watches the owner too;
  // their records, cgroups and leases wait for a store open.
  await until('the containers to stop', () => (started.pids.some(alive) ? undefined : true));
  t.is(recorded().length, started.ids.length, 'the records wait for the next store open');
  await assertNoneListed(t);
  await untilNothingLeft(t, started);
});
