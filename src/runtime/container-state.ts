// A container's state: the mutable half of its record, which its owner (the
// nbox that runs it, or its monitor) writes, and how a reader tells that the
// owner died without writing the end.
import { pidNamespace, processStartTime } from '../sys/proc';
import { isFrozen } from './cgroup';
import { isoTime } from '../iso-time';

/** ContainerStatus follows Docker's state names; `restarting` is a monitor's wait between two runs. */
export type ContainerStatus = 'created' | 'running' | 'restarting' | 'exited';

/** HealthState is Docker's State.Health, kept by the monitor that runs the probes. */
export interface HealthState {
  status: 'starting' | 'healthy' | 'unhealthy';
  failingStreak: number;
  /** The last five probes, oldest first. */
  log: { start: string; end: string; exitCode: number; output: string }[];
}

/** ContainerState is the mutable half of a container record. */
export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  /** /proc/<pid>/stat start time, so a reused pid is not taken for ours. */
  pidStartTime: number;
  exitCode: number;
  error: string;
  startedAt: string;
  finishedAt: string;
  /** The process the container dies with (the nbox that runs it), while it runs. */
  owner?: ProcessIdentity;
  /** The container's cgroup directories, while it runs. */
  cgroup?: string[];
  /** Frozen by `pause`: read from its cgroup's freezer whenever the record is read, never written. */
  paused?: boolean;
  /** The group's CPU time (ns) as this life of the init began: its monitor's group outlives a restart
   * or a restore, and stats measures this life's CPU % from it. Absent: 0, a new group. */
  cpuAtStart?: number;
  /** Restarts its restart policy made, and whether the last run ended in an OOM kill. */
  restartCount?: number;
  oomKilled?: boolean;
  health?: HealthState;
}

/** ProcessIdentity names one process: a pid and its start time, as pids are
 * reused, in one PID namespace (its inode). */
export interface ProcessIdentity {
  pid: number;
  startTime: number;
  pidNamespace?: number;
}

/** processOwner is this process's identity. */
export function processOwner(): ProcessIdentity {
  return { pid: process.pid, startTime: processStartTime(process.pid), pidNamespace: pidNamespace() };
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** createdState is a new container's state: created, never run; `running` puts its owner and cgroup on record. */
export function createdState(running?: Pick<ContainerState, 'owner' | 'cgroup'>): ContainerState {
  return { status: 'created', pid: 0, pidStartTime: 0, exitCode: 0, error: '', startedAt: ZERO_TIME, finishedAt: ZERO_TIME, ...running };
}

/** failedStartState is a container's state after a start that never ran its command. As Docker keeps it:
 * `created` with the exit code and error when it never ran, else `exited`. No process owns it any more. */
export function failedStartState(state: ContainerState, exitCode: number, error: string): ContainerState {
  const neverRan = state.startedAt === ZERO_TIME;
  return {
    ...state, status: neverRan ? 'created' : 'exited', pid: 0, pidStartTime: 0, exitCode, error,
    finishedAt: neverRan ? state.finishedAt : isoTime(), owner: undefined, cgroup: undefined,
  };
}

/** liveState corrects a "running" state whose process or owner is gone (its
 * nbox was killed): the container is reported as exited, as Docker does after
 * a crash. (The next store open kills what is left of it and records that.)
 * isOrphaned: orphaned(state), when the caller has just asked (it reads /proc). */
export function liveState(state: ContainerState, isOrphaned = orphaned(state)): ContainerState {
  // Paused is the freezer's word, read now: `pause` writes no record the container's owner writes too.
  if (!isOrphaned) return state.status === 'running' && state.cgroup ? { ...state, paused: isFrozen(state.cgroup) } : state;
  return {
    ...state,
    status: 'exited',
    exitCode: 137,
    error: 'nbox process exited while the container was running',
    finishedAt: state.finishedAt === ZERO_TIME ? isoTime() : state.finishedAt,
  };
}

/** orphaned: a running container whose init or owner is gone, or one being
 * started (its cgroup made) when its owner died. */
export function orphaned(state: ContainerState): boolean {
  if (state.status === 'exited' || state.owner === undefined && state.status === 'created') return false;
  // Pids from another PID namespace say nothing here: its own nbox judges them.
  if (state.owner?.pidNamespace !== undefined && state.owner.pidNamespace !== pidNamespace()) return false;
  // A live owner records the end itself (a monitor drains the logs first): until it dies, its word stands.
  if (state.owner !== undefined) return processStartTime(state.owner.pid) !== state.owner.startTime;
  return state.status === 'running' && processStartTime(state.pid) !== state.pidStartTime;
}
