import test from 'ava';

import { parseLogTime } from '../../../src/runtime/log-time';

const now = new Date(Date.UTC(2024, 4, 6, 12, 0, 0, 700));
const iso = (value: string, flag: 'since' | 'until' = 'since') => parseLogTime(value, flag, now).toISOString();

test('durations count back from now, in whole seconds as Docker sends them', (t) => {
  t.is(iso('10m'), '2024-05-06T11:50:00.000Z');
  t.is(iso('1h30m'), '2024-05-06T10:30:00.000Z');
  t.is(iso('90s'), '2024-05-06T11:58:30.000Z');
  t.is(iso('1.5h'), '2024-05-06T10:30:00.000Z');
  t.is(iso('-1m'), '2024-05-06T12:01:00.000Z');
});

test('RFC 3339 times with or without fraction and zone, and dates', (t) => {
  t.is(iso('2013-01-02T13:23:37Z'), '2013-01-02T13:23:37.000Z');
  t.is(iso('2013-01-02T13:23:37.123456789Z'), '2013-01-02T13:23:37.123Z');
  t.is(iso('2013-01-02T13:23:37+02:00'), '2013-01-02T11:23:37.000Z');
  t.is(iso('2013-01-02T13:23Z'), '2013-01-02T13:23:00.000Z');
  t.is(iso('2013-01-02Z'), '2013-01-02T00:00:00.000Z');
  // No zone: local time.
  t.is(parseLogTime('2013-01-02T13:23:37', 'since', now).getTime(), new Date(2013, 0, 2, 13, 23, 37).getTime());
  t.is(parseLogTime('2013-01-02', 'since', now).getTime(), new Date(2013, 0, 2).getTime());
});

test('unix seconds, with a fraction', (t) => {
  t.is(iso('1700000000'), '2023-11-14T22:13:20.000Z');
  t.is(iso('1700000000.5'), '2023-11-14T22:13:20.500Z');
  t.is(iso('0'), '1970-01-01T00:00:00.000Z');
});

test('a bad value is the Docker client message', (t) => {
  t.throws(() => parseLogTime('bogus', 'since', now), { message: 'invalid value for "since": failed to parse value as time or duration: "bogus"' });
  t.throws(() => parseLogTime('13:50', 'until', now), { message: 'invalid value for "until": failed to parse value as time or duration: "13:50"' });
  t.throws(() => parseLogTime('7d', 'since', now), { message: /failed to parse value as time or duration: "7d"/ });
  t.throws(() => parseLogTime('2024-13-01', 'since', now), { message: 'invalid value for "since": parsing time "2024-13-01": month out of range' });
  t.throws(() => parseLogTime('2024-01-0x', 'since', now), { message: /^invalid value for "since": parsing time "2024-01-0x" as "2006-01-02"/ });
});
