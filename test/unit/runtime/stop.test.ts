import test from 'ava';

import { parseSignal } from '../../../src/runtime/stop';

test('a signal is taken as Docker takes it: a name with or without SIG, any case, or a number', (t) => {
  t.is(parseSignal('KILL'), 9);
  t.is(parseSignal('SIGTERM'), 15);
  t.is(parseSignal('hup'), 1);
  t.is(parseSignal('10'), 10);
});

test('an unknown name, 0 or a number past 64 is refused with Docker\'s line', (t) => {
  for (const bad of ['NOPE', 'SIG', '0', '65', '-1', '']) t.throws(() => parseSignal(bad), { message: `Invalid signal: ${bad}` }, bad);
});
