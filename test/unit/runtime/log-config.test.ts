import test from 'ava';

import { logConfig } from '../../../src/runtime/log-config';

test('--log-driver is json-file by default, or none (whose options Docker does not check); others are refused', (t) => {
  t.deepEqual(logConfig(undefined), { type: 'json-file', config: {} });
  t.deepEqual(logConfig(''), { type: 'json-file', config: {} });
  t.deepEqual(logConfig('none', { anything: 'x' }), { type: 'none', config: { anything: 'x' } });
  t.throws(() => logConfig('journald'), { message: "logger: no log driver named 'journald' is registered" });
  t.throws(() => logConfig('json-file', { colour: 'red' }), { message: "unknown log opt 'colour' for json-file log driver" });
  t.throws(() => logConfig(undefined, { 'max-file': '3' }), { message: /^log opt 'max-file' is not supported/ });
});
