// nbox-reaper (native/reaper.c): it runs its command when its owner dies, and at
// once when the owner it was given is no longer that process (gone, or its pid
// reused: the start time differs). A pidfd of one's own child needs no
// privilege: these run as anyone.
import test, { type ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { processStartTime } from '../../../src/sys/proc';

const REAPER = resolve(__dirname, '../../../../build/Release/nbox-reaper');

/** A scratch dir, the file the command makes in it, and an owner process, all gone after the test. */
function setup(t: ExecutionContext): { mark: string; owner: ChildProcess } {
  const dir = mkdtempSync(join(tmpdir(), 'nbox-reaper-'));
  const owner = spawn('sleep', ['1000'], { stdio: 'ignore' });
  t.teardown(() => {
    owner.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return { mark: join(dir, 'ran'), owner };
}

/** reap starts nbox-reaper for an owner; its command writes the mark. It is killed after the test if still waiting. */
function reap(t: ExecutionContext, owner: { pid: number; startTime: number }, mark: string): number {
  const reaper = spawn(REAPER, [String(owner.pid), String(owner.startTime), '/bin/sh', '-c', `echo ran > ${mark}`], { stdio: 'ignore', detached: true });
  t.teardown(() => {
    if (reaper.exitCode === null) reaper.kill('SIGKILL');
  });
  return reaper.pid!;
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 10));
  }
}

// waiting: the reaper holds a pidfd and sleeps in poll (not yet exec'd into its command).
function waiting(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`));
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'nbox-reaper' && state === 'S' && fds.includes('anon_inode:[pidfd]');
  } catch {
    return false;
  }
}

test('the command runs once the owner dies, not before', async (t) => {
  const { mark, owner } = setup(t);
  const reaper = reap(t, { pid: owner.pid!, startTime: processStartTime(owner.pid!) }, mark);
  await until('the reaper to watch its owner', () => waiting(reaper));
  t.false(existsSync(mark));
  owner.kill('SIGKILL');
  await until('the command to run', () => existsSync(mark));
  t.is(readFileSync(mark, 'utf8'), 'ran\n');
});

test('an owner whose start time differs (its pid reused) counts as dead: the command runs at once', async (t) => {
  const { mark, owner } = setup(t);
  reap(t, { pid: owner.pid!, startTime: processStartTime(owner.pid!) + 1 }, mark);
  await until('the command to run', () => existsSync(mark));
  t.is(owner.exitCode, null, 'the live process is left alone');
});

test('an owner already gone: the command runs at once', async (t) => {
  const { mark, owner } = setup(t);
  const identity = { pid: owner.pid!, startTime: processStartTime(owner.pid!) };
  owner.kill('SIGKILL');
  await new Promise((resolveExit) => owner.once('exit', resolveExit));
  reap(t, identity, mark);
  await until('the command to run', () => existsSync(mark));
  t.pass();
});
