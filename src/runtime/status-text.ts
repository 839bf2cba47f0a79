// How a container's state and command read in a listing, as the daemon words
// them (moby's State.String() and its Command column): the CLI's `ps` and the
// Engine API's container list both print these.
import { healthStatus, isZeroTime, stateName } from './container-status';
import type { ContainerState } from './container-state';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** humanDuration describes a span in milliseconds like Docker's units.HumanDuration: "About a minute", "3 days". */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  // Hours round to nearest, so 1h29m is still "About an hour".
  const hours = Math.trunc(ms / HOUR + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / HOUR) / 24 / 365)} years`;
}

/** since tells how long before `now` a moment was, as Docker's CREATED column does: "3 minutes ago". */
export function since(date: Date, now: Date = new Date()): string {
  return `${humanDuration(now.getTime() - date.getTime())} ago`;
}

/** psStatus is the STATUS column, as moby's State.String() words it. */
export function psStatus(state: ContainerState, now: Date): string {
  const up = `Up ${humanDuration(now.getTime() - Date.parse(state.startedAt))}`;
  switch (stateName(state)) {
    case 'paused':
      return `${up} (Paused)`;
    case 'restarting':
      return `Restarting (${state.exitCode}) ${since(new Date(state.finishedAt), now)}`;
    case 'running': {
      const health = healthStatus(state);
      if (health === 'none') return up;
      return `${up} (${health === 'starting' ? 'health: starting' : health})`;
    }
    case 'created':
      return 'Created';
    case 'exited':
      // A stop time the record never got prints as Docker prints a zero one: nothing.
      return isZeroTime(state.finishedAt) ? '' : `Exited (${state.exitCode}) ${since(new Date(state.finishedAt), now)}`;
  }
}

/** listedCommand is a container's command as the daemon lists it: an argument with a space in single quotes. */
export function listedCommand(argv: string[]): string {
  // String(): a record an older nbox wrote from a library call with a number in its command still lists.
  return argv.map(String).map((arg, i) => (i > 0 && arg.includes(' ') ? `'${arg}'` : arg)).join(' ');
}
