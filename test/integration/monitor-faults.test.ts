// What happens to a `run -d` container when its monitor or its caller dies, at any step.
import type { ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { cli, rootTest, sharedTestStore } from '../helpers/env';
import { freePort } from '../helpers/host-network';
import { alive, cgroupsOf, comm, endAtTeardown, monitors, parentOf, runDetached, runningState, stateOf, until } from '../helpers/detached';

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

test('run sweeps only what it touches: a name and a published port a killed monitor\'s --rm container held are free', async (t) => {
  const port = await freePort();
  const first = await runDetached(t, store.root, ['--rm', '--name', 'orphaned-name', '-p', `127.0.0.1:${port}:80`, 'bb', 'sleep', '60']);
  const state = await runningState(store.root, first);
  process.kill(state.owner!.pid, 'SIGKILL');
  await until('the init to die', () => (alive(state.pid) ? undefined : true));
  // No listing verb ran since: run itself finds the name's holder and the port's lease dead.
  const second = await cli(store.root, ['run', '-d', '--name', 'orphaned-name', '-p', `127.0.0.1:${port}:80`, 'bb', 'sleep', '60']);
  t.is(second.code, 0, second.stderr);
  endAtTeardown(t, store.root, second.stdout.trim());
  t.is(stateOf(store.root, first), null, 'the --rm container went with the sweep');
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

// The fault walk: NBOX_TEST_STOP_AT=<step> (src/runtime/fault.ts) makes nbox, or with `monitor:<step>` the
// monitor, SIGKILL itself at that step of run -d, start or rm -f. After each, the store must read (`ps -a`),
// no mount of the store may be left in this namespace, and every process of the container must be on record
// (a running container with a live monitor) or gone: no monitor, no cgroup.
const CLI_START_STEPS = ['hello', 'record-created', 'cgroup-created', 'spec-sent', 'started'];
const MONITOR_STEPS = ['monitor:hello', 'monitor:spec', 'monitor:spawned', 'monitor:running', 'monitor:exited', 'monitor:removing'];
const RM_STEPS = ['rm-locked', 'rm-marked', 'rm-released', 'rm-stopped', 'rm-tree-removed'];

function nameOf(step: string, variant: string): string {
  return `fault-${variant}-${step.replace(':', '-')}`;
}

// SPARE_ID is the argument of a monitor spawned ahead of its container (src/runtime/monitor-spawn.ts).
const SPARE_ID = '0'.repeat(64);

// allMonitors are the live nbox-monitor processes of the machine with the container ID each was started for.
function allMonitors(): Map<number, string> {
  const found = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!alive(Number(entry)) || comm(Number(entry)) !== 'nbox-monitor') continue;
      found.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[1] ?? '');
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

// holdsPaths: the process has an fd on some file path (a monitor past its SPEC holds its store's tmp/ and log).
function holdsPaths(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        // Every monitor holds the sealed nbox-exec (/memfd:nbox-exec (deleted)) from its spawn on.
        return target.startsWith('/') && target !== '/dev/null' && !target.startsWith('/memfd:');
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

async function idsNamed(name: string): Promise<string[]> {
  return (await cli(store.root, ['ps', '-aq', '--no-trunc', '--filter', `name=^${name}$`])).stdout.split('\n').filter(Boolean);
}

// settled checks the store after a fault; ids are the containers the scenario made (found by name, or known).
async function settled(t: ExecutionContext, label: string, ids: string[], monitorsBefore: Set<number>): Promise<void> {
  const ps = await cli(store.root, ['ps', '-a']);
  t.is(ps.code, 0, `${label}: ps -a: ${ps.stderr}`);
  for (const id of ids) {
    endAtTeardown(t, store.root, id);
    const outcome = await until(`${label}: ${id.slice(0, 12)} recorded or gone`, async () => {
      await cli(store.root, ['ps', '-a']);
      const state = stateOf(store.root, id);
      const recorded = state?.status === 'running' && state.owner !== undefined && alive(state.owner.pid) && alive(state.pid);
      if (recorded) return 'running';
      const leftovers = monitors(id).length + cgroupsOf(id).length;
      const busy = state?.status === 'running' || state?.status === 'restarting' || (state?.status === 'created' && state.owner !== undefined);
      return leftovers === 0 && !busy ? 'ended' : undefined;
    }, 15000);
    t.log(`${label}: ${outcome}`);
  }
  // A monitor the fault left before its SPEC holds no path and reads EOF at once: it must go. (One of another
  // test file's, made meanwhile, holds its own store's paths a moment later; a library's spare, SPARE_ID, waits
  // for that process's next start.)
  await until(`${label}: new monitors with no container to be gone`, () => {
    const strays = [...allMonitors()].filter(([pid, id]) => !monitorsBefore.has(pid) && !ids.includes(id) && id !== SPARE_ID && !holdsPaths(pid));
    return strays.length === 0 ? true : undefined;
  }, 15000);
  t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(store.root), `${label}: a mount of the store is left`);
}

async function faulted(step: string, args: string[]): Promise<{ code: number | null; signal: string | null }> {
  const r = await cli(store.root, args, { env: { ...process.env, NBOX_ROOT: store.root, NBOX_TEST_STOP_AT: step } });
  return { code: r.code, signal: r.signal };
}

test('fault walk: kill -9 of nbox at each step of run -d', async (t) => {
  for (const step of CLI_START_STEPS) {
    const name = nameOf(step, 'run');
    const before = new Set(allMonitors().keys());
    const r = await faulted(step, ['run', '-d', '--name', name, 'bb', 'sleep', '60']);
    t.is(r.signal, 'SIGKILL', step);
    await settled(t, `run -d at ${step}`, await idsNamed(name), before);
  }
});

test('fault walk: kill -9 of the monitor at each of its steps, with --rm and without', async (t) => {
  for (const step of MONITOR_STEPS) {
    for (const rm of [false, true]) {
      const name = nameOf(step, rm ? 'mon-rm' : 'mon');
      const before = new Set(allMonitors().keys());
      const r = await faulted(step, ['run', '-d', ...(rm ? ['--rm'] : []), '--name', name, 'bb', 'sh', '-c', 'sleep 0.3']);
      // Before STARTED the start fails as a start does; after it the ID was printed.
      const afterStart = step === 'monitor:exited' || step === 'monitor:removing';
      t.is(r.code, afterStart ? 0 : 125, step);
      const ids = await idsNamed(name);
      // Past STARTED the monitor reaches its step only once `sleep 0.3` ends: until then the container runs.
      if (afterStart) await until(`${step}: the monitor killed at its step`, () => (ids.every((id) => monitors(id).length === 0) ? true : undefined), 15000);
      await settled(t, `monitor at ${step}${rm ? ' (--rm)' : ''}`, ids, before);
      // Killed before it recorded the end: the sweep records the kill, or removes the --rm container.
      const ended = ids.map((id) => stateOf(store.root, id)?.exitCode ?? null);
      if (step === 'monitor:exited') t.deepEqual(ended, rm ? ended.map(() => null) : [137], step);
      if (step === 'monitor:removing' && rm) t.deepEqual(ended, ended.map(() => null), step);
    }
  }
});

test('fault walk: kill -9 of nbox at each step of start', async (t) => {
  for (const step of ['start-locked', ...CLI_START_STEPS]) {
    const name = nameOf(step, 'start');
    const created = await cli(store.root, ['create', '--name', name, 'bb', 'sleep', '60']);
    const id = created.stdout.trim();
    const before = new Set(allMonitors().keys());
    const r = await faulted(step, ['start', name]);
    t.is(r.signal, 'SIGKILL', step);
    await settled(t, `start at ${step}`, [id], before);
    // The container can be started again, and removed.
    t.is((await cli(store.root, ['start', name])).code, 0, step);
    t.is((await cli(store.root, ['rm', '-f', name])).code, 0, step);
    // The monitor unmounts the container's overlay after the end is on record, then exits.
    await until('the monitor to exit', () => (monitors(id).length === 0 ? true : undefined));
    t.deepEqual([monitors(id), cgroupsOf(id)], [[], []], step);
  }
});

test('fault walk: kill -9 of nbox at each step of rm -f', async (t) => {
  for (const step of RM_STEPS) {
    const name = nameOf(step, 'rm');
    const id = await runDetached(t, store.root, ['--name', name, 'bb', 'sleep', '60']);
    await runningState(store.root, id);
    const before = new Set(allMonitors().keys());
    const r = await faulted(step, ['rm', '-f', name]);
    t.is(r.signal, 'SIGKILL', step);
    await settled(t, `rm -f at ${step}`, [id], before);
    // Whatever is left, rm -f finishes it, and the name is free again.
    await cli(store.root, ['rm', '-f', id]);
    await until('the monitor to exit', () => (monitors(id).length === 0 ? true : undefined));
    t.deepEqual([stateOf(store.root, id), monitors(id), cgroupsOf(id)], [null, [], []], step);
    t.is((await cli(store.root, ['create', '--name', name, 'bb', 'true'])).code, 0, step);
    t.is((await cli(store.root, ['rm', name])).code, 0, step);
  }
});
