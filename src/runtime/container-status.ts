// Docker's view of a container record's state: the state name that ps, inspect
// and the filters show (moby's State.State), and the health they report.
import type { ContainerState } from './container-state';

/** StateName is Docker's State.Status of a container nbox can hold. */
export type StateName = 'created' | 'running' | 'paused' | 'restarting' | 'exited';

/** HealthStatus is Docker's health of a container: `none` when it has never run a health check. */
export type HealthStatus = 'none' | 'starting' | 'healthy' | 'unhealthy';

/** isUp is Docker's State.Running: a running (or paused) container, and one its monitor is about to restart. */
export function isUp(state: ContainerState): boolean {
  return state.status === 'running' || state.status === 'restarting';
}

/** stateName is Docker's state for a record. (Docker keeps a container whose start failed `created`;
 * a record says `exited` for it, as for one whose nbox died before it could note the start.) */
export function stateName(state: ContainerState): StateName {
  if (state.status === 'running') return state.paused ? 'paused' : 'running';
  return state.status;
}

/** healthStatus is the health Docker reports and filters on. */
export function healthStatus(state: ContainerState): HealthStatus {
  if (!state.health) return 'none';
  // A monitor that has not written a status yet reads as unhealthy, as Docker's does.
  return state.health.status || 'unhealthy';
}

/** isZeroTime tells a time a record has not got yet: Go's zero time, as Docker writes it. */
export function isZeroTime(time: string): boolean {
  return !(Date.parse(time) > ZERO_TIME_MS);
}

// Go's zero time, 0001-01-01T00:00:00Z, which a record holds until its first start.
const ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');
