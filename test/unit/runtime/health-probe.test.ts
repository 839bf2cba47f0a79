import test from 'ava';

import { goDuration, probeSpec } from '../../../src/runtime/health-probe';

test('goDuration prints as Go time.Duration.String', (t) => {
  const cases: [number, string][] = [
    [0, '0s'], [30e9, '30s'], [300e6, '300ms'], [1.5e9, '1.5s'], [90e9, '1m30s'], [3600e9, '1h0m0s'],
    [1500, '1.5µs'], [999, '999ns'], [61.25e9, '1m1.25s'],
  ];
  for (const [ns, text] of cases) t.is(goDuration(ns), text, String(ns));
});

test('probeSpec: CMD-SHELL through /bin/sh, CMD as it is, defaults in ms, none for NONE', (t) => {
  t.deepEqual(probeSpec({ Test: ['CMD-SHELL', 'test -e /ok'], Interval: 2e9 }), {
    argv: ['/bin/sh', '-c', 'test -e /ok'], intervalMs: 2000, timeoutMs: 30000, startPeriodMs: 0, startIntervalMs: 5000, retries: 3, timeoutText: '30s',
  });
  t.deepEqual(probeSpec({ Test: ['CMD', '/bin/check', 'x'], Timeout: 250e6 }).argv, ['/bin/check', 'x']);
  t.is(probeSpec({ Test: ['CMD', '/bin/check'], Timeout: 250e6 }).timeoutText, '250ms');
  t.deepEqual(probeSpec({ Test: ['NONE'] }).argv, []);
  t.deepEqual(probeSpec(undefined).argv, []);
});
