// A recording stand-in for the addon's container calls, so the runtime's spec
// building, mount list and failure mapping are unit-tested without root. What
// needs no privilege (pipes, locks, xattrs, in-root opens) is the real addon's.
import { openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';

import type { SysError } from '../errors';
import { addon, type Addon, type ExitStatus, type SpawnSpec } from './addon';

/** Recorder is what a recording addon saw, and its controls. */
export interface Recorder {
  readonly spawned: SpawnSpec[];
  readonly signals: number[];
  readonly deviceFilters: string[];
  /** A SysError the next spawn throws, as the child reports a failed step. */
  failNextSpawn: SysError | undefined;
  /** exit ends the container behind pidfd with status. */
  exit(pidfd: number, status: ExitStatus): void;
}

/** recordingAddon is the addon with spawn, wait, kill and attachDeviceFilter
 * recorded instead of done; its containers exit when told to or when killed. */
export function recordingAddon(): Addon & Recorder {
  const waiting = new Map<number, (status: ExitStatus) => void>();
  const fake: Addon & Recorder = {
    ...addon(),
    spawned: [],
    signals: [],
    deviceFilters: [],
    failNextSpawn: undefined,
    exit(pidfd, status) {
      waiting.get(pidfd)?.(status);
      waiting.delete(pidfd);
    },
    spawn(spec) {
      fake.spawned.push(spec);
      const failure = fake.failNextSpawn;
      fake.failNextSpawn = undefined;
      if (failure) throw failure;
      // A real fd stands for the pidfd, so the caller's close() is a real one.
      return { pid: 4242 + fake.spawned.length, pidfd: openSync('/dev/null', 'r') };
    },
    wait(pidfd) {
      return new Promise<ExitStatus>((resolve) => waiting.set(pidfd, resolve));
    },
    kill(pidfd, signal) {
      fake.signals.push(signal);
      if (signal === osConstants.signals.SIGKILL) fake.exit(pidfd, { exitCode: null, signal });
      return true;
    },
    attachDeviceFilter(cgroupDir) {
      fake.deviceFilters.push(cgroupDir);
    },
  };
  return fake;
}
