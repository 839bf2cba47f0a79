// `--restart`: Docker's restart policies, how they are read and checked, and
// the rules that decide whether an ended container runs again and after how
// long (moby's restartmanager). The rules are pure so the monitor, which
// applies them in C, has one tested statement of them to follow.
import { NboxError } from '../errors';

/** RestartPolicyName is one of Docker's four policies. */
export type RestartPolicyName = 'no' | 'always' | 'on-failure' | 'unless-stopped';

/** RestartPolicy is Docker's HostConfig.RestartPolicy; a retry count only means something with on-failure (0 = no limit). */
export interface RestartPolicy {
  name: RestartPolicyName;
  maximumRetryCount: number;
}

/** NO_RESTART is the default policy, `no`. */
export const NO_RESTART: RestartPolicy = { name: 'no', maximumRetryCount: 0 };

const NAMES: readonly string[] = ['no', 'always', 'on-failure', 'unless-stopped'];
const INT64_MAX = 2n ** 63n - 1n;

/** parseRestartPolicy reads `--restart name[:count]` as the docker CLI does, then checks it as the daemon does. */
export function parseRestartPolicy(text: string): RestartPolicy {
  // The docker CLI sends an empty value as an unset policy, which means `no`.
  if (text === '') return NO_RESTART;
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const count = colon < 0 ? '' : text.slice(colon + 1);
  if (colon >= 0 && name === '') usage('invalid restart policy format: no policy provided before colon');
  // strconv.Atoi: an optional sign, decimal digits, within int64.
  if (count !== '' && !(/^[+-]?\d+$/.test(count) && BigInt(count) <= INT64_MAX && BigInt(count) >= -INT64_MAX - 1n)) {
    usage('invalid restart policy format: maximum retry count must be an integer');
  }
  return validateRestartPolicy({ name, maximumRetryCount: count === '' ? 0 : Number(count) });
}

/** validateRestartPolicy checks a policy given as data with the daemon's messages (ValidateRestartPolicy). */
export function validateRestartPolicy(policy: { name: string; maximumRetryCount?: number }): RestartPolicy {
  const count = policy.maximumRetryCount ?? 0;
  if (!Number.isInteger(count)) usage('invalid restart policy format: maximum retry count must be an integer');
  // An empty name is how older clients said `no`; the daemon accepts it with any count.
  if (policy.name === '') return NO_RESTART;
  if (!NAMES.includes(policy.name)) {
    usage(`invalid restart policy: unknown policy '${policy.name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (policy.name === 'on-failure') {
    if (count < 0) usage('invalid restart policy: maximum retry count cannot be negative');
  } else if (count !== 0) {
    usage(`invalid restart policy: maximum retry count can only be used with 'on-failure'${count < 0 ? ' and cannot be negative' : ''}`);
  }
  return { name: policy.name as RestartPolicyName, maximumRetryCount: count };
}

/** checkAutoRemove refuses `--rm` with a policy that restarts, with the docker CLI's message. */
export function checkAutoRemove(policy: RestartPolicy, autoRemove: boolean): void {
  if (autoRemove && policy.name !== 'no') usage('conflicting options: cannot specify both --restart and --rm');
}

/** RunEnd is what the restart decision looks at when a container's process ends. */
export interface RunEnd {
  exitCode: number;
  /** Restarts made so far (the record's restartCount). */
  restartCount: number;
  /** A user stopped or killed it (`stop`, `kill`, any signal): Docker's HasBeenManuallyStopped. */
  manuallyStopped: boolean;
  /** That stop or kill used the stop signal or SIGKILL, which ends the restarts of any policy: Docker's ExitOnNext. */
  restartCanceled: boolean;
}

/** shouldRestart is moby's RestartManager.ShouldRestart: whether the policy runs the container again. */
export function shouldRestart(policy: RestartPolicy, end: RunEnd): boolean {
  if (policy.name === 'no' || end.restartCanceled) return false;
  switch (policy.name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !end.manuallyStopped;
    case 'on-failure':
      // A count of 0 sets no limit.
      return end.exitCode !== 0 && (policy.maximumRetryCount === 0 || end.restartCount < policy.maximumRetryCount);
  }
}

/** killCancelsRestart tells whether a kill with `signal` ends the restarts, as moby's killWithSignal:
 * SIGKILL always does, and so does the container's stop signal, or any signal when none is configured. */
export function killCancelsRestart(signal: number, stopSignal: number | undefined): boolean {
  return signal === SIGKILL || stopSignal === undefined || signal === stopSignal;
}

const SIGKILL = 9;
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
const STEADY_RUN_MS = 10_000;

/** restartDelay is the wait before the next restart, given the previous one (0 before the first) and how
 * long the ended run lasted: 100 ms doubling up to a minute, back to 100 ms after a run of 10 s or more. */
export function restartDelay(previousDelayMs: number, ranMs: number): number {
  const previous = ranMs >= STEADY_RUN_MS ? 0 : previousDelayMs;
  if (previous === 0) return FIRST_DELAY_MS;
  return Math.min(previous < MAX_DELAY_MS ? previous * 2 : previous, MAX_DELAY_MS);
}

function usage(message: string): never {
  throw new NboxError('ERR_NBOX_USAGE', message);
}
