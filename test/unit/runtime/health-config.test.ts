import test from 'ava';
import { NboxError } from '../../../src/errors';
import {
  PROBE_DEFAULTS, healthcheckFromOptions, mergeHealthcheck, probeSettings, validateHealthConfig, type HealthcheckOptions,
} from '../../../src/runtime/health-config';

const S = 1e9;
const MS = 1e6;

test('without a flag the container has no health check of its own', (t) => {
  t.is(healthcheckFromOptions(), undefined);
  t.is(healthcheckFromOptions({ cmd: '', interval: '0s', retries: 0, disable: false }), undefined);
});

test('--health-cmd is a CMD-SHELL test; durations are Go durations or nanoseconds; unset fields are left out', (t) => {
  t.deepEqual(healthcheckFromOptions({ cmd: 'curl -f http://localhost/ || exit 1' }), { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'] });
  t.deepEqual(healthcheckFromOptions({ cmd: 'true', interval: '1m30s', timeout: '500ms', startPeriod: '2s', startInterval: 3 * S, retries: 4 }), {
    Test: ['CMD-SHELL', 'true'], Interval: 90 * S, Timeout: 500 * MS, StartPeriod: 2 * S, StartInterval: 3 * S, Retries: 4,
  });
  // Settings without a command keep the image's test (merged later).
  t.deepEqual(healthcheckFromOptions({ retries: 5 }), { Retries: 5 });
});

test('--no-healthcheck is the NONE test, and conflicts with any --health-* flag', (t) => {
  t.deepEqual(healthcheckFromOptions({ disable: true }), { Test: ['NONE'] });
  for (const options of [{ cmd: 'true' }, { interval: '5s' }, { retries: 1 }, { startInterval: '1s' }] as HealthcheckOptions[]) {
    t.throws(() => healthcheckFromOptions({ ...options, disable: true }), { instanceOf: NboxError, message: '--no-healthcheck conflicts with --health-* options' });
  }
});

for (const [options, message] of [
  [{ interval: '-1s' }, '--health-interval cannot be negative'],
  [{ timeout: -1 }, '--health-timeout cannot be negative'],
  [{ retries: -1 }, '--health-retries cannot be negative'],
  [{ startPeriod: '-5m' }, '--health-start-period cannot be negative'],
  [{ startInterval: '-1ns' }, '--health-start-interval cannot be negative'],
  [{ interval: 'abc' }, 'invalid argument "abc" for "--health-interval" flag: time: invalid duration "abc"'],
  [{ timeout: '10' }, 'invalid argument "10" for "--health-timeout" flag: time: missing unit in duration "10"'],
  [{ startPeriod: '10x' }, 'invalid argument "10x" for "--health-start-period" flag: time: unknown unit "x" in duration "10x"'],
  [{ startInterval: '' }, 'invalid argument "" for "--health-start-interval" flag: time: invalid duration ""'],
] as [HealthcheckOptions, string][]) {
  test(`healthcheckFromOptions refuses ${JSON.stringify(options)} as the docker CLI does`, (t) => {
    const error = t.throws(() => healthcheckFromOptions(options), { instanceOf: NboxError, message });
    t.is(error?.code, 'ERR_NBOX_USAGE');
  });
}

test('validateHealthConfig: a set duration under 1ms is refused with the daemon message; 0 and 1ms pass', (t) => {
  t.notThrows(() => validateHealthConfig(undefined));
  t.notThrows(() => validateHealthConfig({ Test: ['CMD-SHELL', 'true'], Interval: MS, Timeout: 0, StartPeriod: MS, StartInterval: MS }));
  for (const [field, options] of [
    ['Interval', { interval: '999us' }],
    ['Timeout', { timeout: '1ns' }],
    ['StartPeriod', { startPeriod: '0.5ms' }],
    ['StartInterval', { startInterval: 1000 }],
  ] as [string, HealthcheckOptions][]) {
    t.throws(() => validateHealthConfig(healthcheckFromOptions(options)), { instanceOf: NboxError, message: `${field} in Healthcheck cannot be less than 1ms` });
  }
  t.throws(() => validateHealthConfig({ Retries: -1 }), { message: 'Retries in Healthcheck cannot be negative' });
});

test("mergeHealthcheck: the container's settings win, what it leaves unset comes from the image", (t) => {
  const image = { Test: ['CMD', '/check'], Interval: 10 * S, Retries: 2 };
  t.is(mergeHealthcheck(undefined, undefined), undefined);
  t.deepEqual(mergeHealthcheck(undefined, image), image);
  t.deepEqual(mergeHealthcheck({ Test: ['CMD-SHELL', 'true'] }, undefined), { Test: ['CMD-SHELL', 'true'] });
  t.deepEqual(mergeHealthcheck({ Retries: 5, Timeout: 2 * S }, image), { Test: ['CMD', '/check'], Interval: 10 * S, Timeout: 2 * S, Retries: 5 });
  t.deepEqual(mergeHealthcheck({ Test: ['CMD-SHELL', 'true'], Interval: S }, image), { Test: ['CMD-SHELL', 'true'], Interval: S, Retries: 2 });
  // --no-healthcheck keeps NONE; the daemon still copies the image's numbers beside it.
  t.deepEqual(mergeHealthcheck({ Test: ['NONE'] }, image), { Test: ['NONE'], Interval: 10 * S, Retries: 2 });
  t.deepEqual(mergeHealthcheck({ Test: [] }, image)?.Test, ['CMD', '/check']);
});

test("probeSettings fills Docker's defaults, and is null when nothing is to be probed", (t) => {
  t.deepEqual(probeSettings({ Test: ['CMD-SHELL', 'true'] }), { test: ['CMD-SHELL', 'true'], ...PROBE_DEFAULTS });
  t.deepEqual(PROBE_DEFAULTS, { intervalNs: 30 * S, timeoutNs: 30 * S, startPeriodNs: 0, startIntervalNs: 5 * S, retries: 3 });
  t.deepEqual(probeSettings({ Test: ['CMD', '/check', '-v'], Interval: S, Timeout: 2 * S, StartPeriod: 3 * S, StartInterval: 4 * S, Retries: 7 }), {
    test: ['CMD', '/check', '-v'], intervalNs: S, timeoutNs: 2 * S, startPeriodNs: 3 * S, startIntervalNs: 4 * S, retries: 7,
  });
  for (const config of [undefined, {}, { Test: [] }, { Test: ['NONE'] }, { Test: ['SHELL', 'x'] }, { Retries: 3 }]) t.is(probeSettings(config), null);
});
