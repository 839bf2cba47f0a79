// Helpers of the `run -d` tests: polling, process facts from /proc, a
// container's cgroup dirs, and a teardown that ends a detached container
// (its monitor and init are no children of the test) even when a test fails.
import type { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { cli } from './env';

/** until polls check until it returns a value that is not undefined, up to a generous deadline. */
export async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 30000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** stat is /proc/<pid>/stat's fields after the command name (index 0 is field 3, the state), or null. */
function stat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** alive: the process exists and is no zombie. */
export function alive(pid: number): boolean {
  const fields = stat(pid);
  return fields !== null && fields[0] !== 'Z' && fields[0] !== 'X';
}

/** parentOf is a process's parent pid. */
export function parentOf(pid: number): number {
  return Number(stat(pid)![1]);
}

/** comm is a process's command name. */
export function comm(pid: number): string {
  return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
}

/** monitors are the live nbox-monitor processes of a container (its ID is the monitor's argument). */
export function monitors(id: string): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    try {
      return alive(pid) && comm(pid) === 'nbox-monitor' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(id);
    } catch {
      return false;
    }
  });
}

/** cgroupsOf lists the cgroup dirs of a container (named `<ns>-<pid>-<start>-<first 32 of its ID>`). */
export function cgroupsOf(id: string): string[] {
  // Other tests' groups come and go meanwhile: find then fails on a vanished dir, and its output still stands.
  const found = spawnSync('find', ['/sys/fs/cgroup', '-maxdepth', '8', '-type', 'd', '-name', `*-${id.slice(0, 32)}`], { encoding: 'utf8' });
  return found.stdout.split('\n').filter(Boolean);
}

/** State is the part of a container's state.json the tests read. */
export interface State {
  status: string;
  pid: number;
  exitCode: number;
  error: string;
  owner?: { pid: number; startTime: number };
  cgroup?: string[];
  restartCount?: number;
  cpuAtStart?: number;
}

/** stateOf reads a container's state.json as its owner wrote it, or null once it is removed. */
export function stateOf(root: string, id: string): State | null {
  try {
    return JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8')) as State;
  } catch {
    return null;
  }
}

/** runDetached is `nbox run -d ARGS`: the ID it printed, ended at teardown. */
export async function runDetached(t: ExecutionContext, root: string, args: string[]): Promise<string> {
  const r = await cli(root, ['run', '-d', ...args]);
  if (r.code !== 0) throw new Error(`run -d ${args.join(' ')}: ${r.code} ${r.stderr}`);
  const id = r.stdout.trim();
  endAtTeardown(t, root, id);
  return id;
}

/** endAtTeardown kills what is left of a detached container (its monitor first, so nothing restarts
 * or records over the rm) and removes it. */
export function endAtTeardown(t: ExecutionContext, root: string, id: string): void {
  t.teardown(async () => {
    for (const pid of monitors(id)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await cli(root, ['rm', '-f', id]);
  });
}

/** runningState waits until the container is running and returns its state. */
export function runningState(root: string, id: string): Promise<State> {
  return until(`${id} running`, () => {
    const state = stateOf(root, id);
    return state?.status === 'running' ? state : undefined;
  });
}
