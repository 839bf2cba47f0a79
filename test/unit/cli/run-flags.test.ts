import test from 'ava';

import { parseStopTimeout } from '../../../src/cli/commands/run';

test('--stop-timeout reads as pflag reads an int, and refuses anything else with its message', (t) => {
  t.is(parseStopTimeout('1'), 1);
  t.is(parseStopTimeout('0'), 0);
  t.is(parseStopTimeout('-1'), -1);
  t.is(parseStopTimeout('0x10'), 16);
  for (const bad of ['', 'ten', '1.5', '1s']) {
    t.throws(() => parseStopTimeout(bad), { message: `invalid argument "${bad}" for "--stop-timeout" flag: strconv.ParseInt: parsing "${bad}": invalid syntax` }, bad);
  }
});
