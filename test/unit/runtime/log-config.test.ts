import test from 'ava';

import { logConfig, logRotation } from '../../../src/runtime/log-config';

test('--log-driver is json-file by default, or none (whose options Docker does not check); others are refused', (t) => {
  t.deepEqual(logConfig(undefined), { type: 'json-file', config: {} });
  t.deepEqual(logConfig(''), { type: 'json-file', config: {} });
  t.deepEqual(logConfig('none', { anything: 'x' }), { type: 'none', config: { anything: 'x' } });
  t.throws(() => logConfig('journald'), { message: "logger: no log driver named 'journald' is registered" });
  t.throws(() => logConfig('json-file', { colour: 'red' }), { message: "unknown log opt 'colour' for json-file log driver" });
  t.throws(() => logConfig(undefined, { compress: 'true' }), { message: /^log opt 'compress' is not supported/ });
});

test('max-size and max-file as moby reads them: decimal sizes, max-file 1 by default, the bad ones refused', (t) => {
  t.deepEqual(logRotation(logConfig(undefined, { 'max-size': '10m', 'max-file': '3' })), { maxSize: 10_000_000, maxFile: 3 });
  t.deepEqual(logRotation(logConfig(undefined, { 'max-size': '1.5k' })), { maxSize: 1500, maxFile: 1 });
  t.deepEqual(logRotation(logConfig(undefined, { 'max-size': '2MiB' })), { maxSize: 2_000_000, maxFile: 1 });
  t.is(logRotation(logConfig(undefined, { 'max-file': '3' })), undefined);
  t.is(logRotation(logConfig('none', { 'max-size': '1k' })), undefined);
  t.throws(() => logConfig(undefined, { 'max-size': 'big' }), { message: "invalid size: 'big'" });
  t.throws(() => logConfig(undefined, { 'max-size': '0' }), { message: 'max-size must be a positive number' });
  t.throws(() => logConfig(undefined, { 'max-size': '1k', 'max-file': '0' }), { message: 'max-file cannot be less than 1' });
  t.throws(() => logConfig(undefined, { 'max-file': 'x' }), { message: 'strconv.Atoi: parsing "x": invalid syntax' });
});
