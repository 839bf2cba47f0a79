// Container records made in memory, in the states a monitor writes, for the
// tests of what ps, inspect and the filters make of them.
import type { ContainerRecord } from '../../../src/runtime/container-record';
import type { ContainerState, HealthState } from '../../../src/runtime/container-state';

/** NOW is the moment the tests look at the records. */
export const NOW = new Date('2026-06-01T12:00:00.000Z');

const ZERO = '0001-01-01T00:00:00Z';

/** ago is the ISO time ms before NOW. */
export function ago(ms: number): string {
  return new Date(NOW.getTime() - ms).toISOString();
}

/** health is a HealthState with the given status. */
export function health(status: HealthState['status'], failingStreak = 0): HealthState {
  return { status, failingStreak, log: [{ start: ago(2000), end: ago(1900), exitCode: failingStreak ? 1 : 0, output: 'probe output\n' }] };
}

/** record is a container record whose state is overridden. */
export function record(state: Partial<ContainerState> = {}, name = 'c1'): ContainerRecord {
  return {
    dir: `/store/containers/${'a'.repeat(64)}`,
    config: {
      id: 'a'.repeat(64), name, created: ago(60_000), image: `sha256:${'b'.repeat(64)}`, imageRef: 'bb', entrypoint: null, cmd: ['sh'],
      argv: ['sh'], env: [], user: '', workingDir: '/', hostname: 'aaaaaaaaaaaa', network: 'none', autoRemove: false, labels: {},
    },
    state: { status: 'created', pid: 0, pidStartTime: 0, exitCode: 0, error: '', startedAt: ZERO, finishedAt: ZERO, ...state },
  };
}

/** The states a record can be in, as the monitor and run write them. */
export const STATES = {
  created: record(),
  failedStart: record({ status: 'exited', exitCode: 127, error: 'exec: "nope": executable file not found in $PATH', finishedAt: ago(5000) }),
  running: record({ status: 'running', pid: 4242, startedAt: ago(3000) }),
  paused: record({ status: 'running', pid: 4242, paused: true, startedAt: ago(3000), health: health('healthy') }),
  healthy: record({ status: 'running', pid: 4242, startedAt: ago(3000), health: health('healthy') }),
  starting: record({ status: 'running', pid: 4242, startedAt: ago(2 * 60_000 + 5000), health: { status: 'starting', failingStreak: 0, log: [] } }),
  unhealthy: record({ status: 'running', pid: 4242, startedAt: ago(70 * 60_000), health: health('unhealthy', 3) }),
  restarting: record({ status: 'restarting', exitCode: 1, startedAt: ago(6000), finishedAt: ago(5000), restartCount: 2 }),
  exited: record({ status: 'exited', exitCode: 0, startedAt: ago(7000), finishedAt: ago(5000) }),
  exitedUnhealthy: record({ status: 'exited', exitCode: 3, startedAt: ago(7000), finishedAt: ago(61_000), health: health('unhealthy', 1), oomKilled: true }),
} satisfies Record<string, ContainerRecord>;
