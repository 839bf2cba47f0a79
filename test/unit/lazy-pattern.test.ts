import test from 'ava';

import { lazyPattern } from '../../src/lazy-pattern';

test('lazyPattern tests as its RegExp does, flags and all', (t) => {
  const letter = lazyPattern(String.raw`^\p{L}$`, 'u');
  t.true(letter.test('é'));
  t.true(letter.test('Ж'));
  t.false(letter.test('1'));
  t.false(letter.test('ab'));
});

test('lazyPattern makes its RegExp at the first test, not before', (t) => {
  // An unterminated group: new RegExp throws, so making it at once would throw here.
  const broken = lazyPattern('(', '');
  t.throws(() => broken.test('x'), { instanceOf: SyntaxError });
});
