// A container's health check: the image's HEALTHCHECK merged with `run`'s
// --health-* flags, checked with the docker CLI's and the daemon's messages,
// and the probe settings with Docker's defaults filled in for the monitor.
import { parseDuration } from '../dockerfile/duration';
import { NboxError } from '../errors';
import type { HealthConfig, ImageConfigBody } from '../image/oci';

export type { HealthConfig } from '../image/oci';

/** A duration: a Go duration string (`30s`, `1m30s`) or nanoseconds. */
export type DurationValue = string | number;

/** HealthcheckOptions are `run`'s --health-* flags and --no-healthcheck, as data. */
export interface HealthcheckOptions {
  /** --health-cmd: run with the container's shell. */
  cmd?: string;
  /** The test as the Engine API gives it (`["CMD", …]` or `["CMD-SHELL", …]`); instead of cmd. */
  test?: string[];
  interval?: DurationValue;
  timeout?: DurationValue;
  startPeriod?: DurationValue;
  startInterval?: DurationValue;
  retries?: number;
  /** --no-healthcheck: no probe, whatever the image says. */
  disable?: boolean;
}

/** ProbeSettings is what a monitor runs: the test and every setting with Docker's default applied. */
export interface ProbeSettings {
  test: string[];
  intervalNs: number;
  timeoutNs: number;
  startPeriodNs: number;
  startIntervalNs: number;
  retries: number;
}

const SECOND_NS = 1e9;
const MINIMUM_NS = 1e6;

/** Docker's defaults (daemon/health.go). */
export const PROBE_DEFAULTS = {
  intervalNs: 30 * SECOND_NS,
  timeoutNs: 30 * SECOND_NS,
  startPeriodNs: 0,
  startIntervalNs: 5 * SECOND_NS,
  retries: 3,
} as const;

const DURATIONS = [
  ['interval', 'Interval', '--health-interval'],
  ['timeout', 'Timeout', '--health-timeout'],
  ['startPeriod', 'StartPeriod', '--health-start-period'],
  ['startInterval', 'StartInterval', '--health-start-interval'],
] as const;

/** healthcheckFromOptions turns the flags into the container's own HealthConfig (before the image's is
 * merged in), or undefined when none is given; bad values fail as `docker run` fails on them. */
export function healthcheckFromOptions(options: HealthcheckOptions = {}): HealthConfig | undefined {
  const ns = Object.fromEntries(DURATIONS.map(([key, , flag]) => [key, nanoseconds(options[key], flag)])) as Record<(typeof DURATIONS)[number][0], number>;
  const retries = options.retries ?? 0;
  if (!Number.isInteger(retries)) usage(`invalid argument "${retries}" for "--health-retries" flag: strconv.ParseInt: parsing "${retries}": invalid syntax`);
  const cmd = options.cmd ?? '';
  const test = options.test?.length ? options.test : cmd === '' ? undefined : ['CMD-SHELL', cmd];
  const given = test !== undefined || retries !== 0 || Object.values(ns).some((value) => value !== 0);
  if (options.disable) {
    if (given) usage('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!given) return undefined;
  // The docker CLI's checks, in its order; the daemon's lower bounds follow in validateHealthConfig.
  for (const [key, , flag] of DURATIONS.slice(0, 2)) if (ns[key] < 0) usage(`${flag} cannot be negative`);
  if (retries < 0) usage('--health-retries cannot be negative');
  for (const [key, , flag] of DURATIONS.slice(2)) if (ns[key] < 0) usage(`${flag} cannot be negative`);
  const config: HealthConfig = test === undefined ? {} : { Test: test };
  for (const [key, field] of DURATIONS) if (ns[key] !== 0) config[field] = ns[key];
  if (retries !== 0) config.Retries = retries;
  return config;
}

/** validateHealthConfig applies the daemon's bounds (validateHealthCheck): a set duration is at least 1ms. */
export function validateHealthConfig(config: HealthConfig | undefined): void {
  if (!config) return;
  for (const [, field] of DURATIONS.slice(0, 2)) tooShort(config[field], field);
  if ((config.Retries ?? 0) < 0) usage('Retries in Healthcheck cannot be negative');
  for (const [, field] of DURATIONS.slice(2)) tooShort(config[field], field);
}

/** mergeHealthcheck fills what the container's config leaves unset from the image's, as the daemon merges them. */
export function mergeHealthcheck(own: HealthConfig | undefined, image: ImageConfigBody['Healthcheck']): HealthConfig | undefined {
  if (!image) return own;
  if (!own) return { ...image };
  const merged: HealthConfig = { ...own };
  if (!merged.Test?.length && image.Test) merged.Test = image.Test;
  for (const [, field] of DURATIONS) if (!merged[field] && image[field]) merged[field] = image[field];
  if (!merged.Retries && image.Retries) merged.Retries = image.Retries;
  return merged;
}

/** probeSettings is what the monitor runs for a container's HealthConfig, or null when it runs no probe
 * (no test, NONE, or a test type Docker does not know, which it skips with a warning). */
export function probeSettings(config: HealthConfig | undefined): ProbeSettings | null {
  const test = config?.Test ?? [];
  if (test[0] !== 'CMD' && test[0] !== 'CMD-SHELL') return null;
  return {
    test,
    intervalNs: config?.Interval || PROBE_DEFAULTS.intervalNs,
    timeoutNs: config?.Timeout || PROBE_DEFAULTS.timeoutNs,
    startPeriodNs: config?.StartPeriod || PROBE_DEFAULTS.startPeriodNs,
    startIntervalNs: config?.StartInterval || PROBE_DEFAULTS.startIntervalNs,
    // Docker takes any count below 1 as the default.
    retries: config?.Retries !== undefined && config.Retries > 0 ? config.Retries : PROBE_DEFAULTS.retries,
  };
}

// nanoseconds reads one duration flag; pflag's message for one that is not a Go duration.
function nanoseconds(value: DurationValue | undefined, flag: string): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) usage(`invalid argument "${value}" for "${flag}" flag: durations are whole nanoseconds`);
    return value;
  }
  const parsed = parseDuration(value);
  if (parsed === undefined) usage(`invalid argument "${value}" for "${flag}" flag: ${durationError(value)}`);
  return parsed;
}

// durationError is the reason Go's time.ParseDuration gives for text it refuses.
function durationError(text: string): string {
  const invalid = `time: invalid duration ${JSON.stringify(text)}`;
  let rest = text.replace(/^[+-]/, '');
  while (rest !== '') {
    const number = /^\d*(?:\.\d*)?/.exec(rest)?.[0] ?? '';
    if (!/\d/.test(number)) return invalid;
    rest = rest.slice(number.length);
    const unit = /^[^\d.]*/.exec(rest)?.[0] ?? '';
    if (unit === '') return `time: missing unit in duration ${JSON.stringify(text)}`;
    if (!GO_UNITS.has(unit)) return `time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}`;
    rest = rest.slice(unit.length);
  }
  // Only an empty text or an overflow is left.
  return invalid;
}

const GO_UNITS = new Set(['ns', 'us', '\u00b5s', '\u03bcs', 'ms', 's', 'm', 'h']);

function tooShort(value: number | undefined, field: string): void {
  if (value !== undefined && value !== 0 && value < MINIMUM_NS) usage(`${field} in Healthcheck cannot be less than 1ms`);
}

function usage(message: string): never {
  throw new NboxError('ERR_NBOX_USAGE', message);
}
