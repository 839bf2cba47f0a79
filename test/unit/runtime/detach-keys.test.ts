import test from 'ava';
import { NboxError } from '../../../src/errors';
import { DEFAULT_DETACH_KEYS, DetachFilter, parseDetachKeys } from '../../../src/runtime/detach-keys';

test('parseDetachKeys reads Docker\'s format: single characters, ctrl-@ to ctrl-_, DEL', (t) => {
  t.deepEqual(parseDetachKeys(''), [16, 17]);
  t.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17]);
  t.deepEqual(parseDetachKeys('ctrl-@,ctrl-a,ctrl-z,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_'), [0, 1, 26, 27, 28, 29, 30, 31]);
  t.deepEqual(parseDetachKeys('a,b,DEL'), [97, 98, 127]);
  // One byte is that byte, whatever it is (Go's len() of the key is 1).
  t.deepEqual(parseDetachKeys('\x01,~,-'), [1, 126, 45]);
});

for (const [keys, bad] of [['shift-a', 'shift-a'], ['ctrl-p,ctrl-1', 'ctrl-1'], ['ctrl-P', 'ctrl-P'], ['a,,b', ''], ['é', 'é'], ['ctrl-', 'ctrl-'], ['del', 'del']]) {
  test(`parseDetachKeys refuses ${JSON.stringify(keys)} with Docker's line`, (t) => {
    const error = t.throws(() => parseDetachKeys(keys), { instanceOf: NboxError, message: `invalid detach keys (${keys}): Unknown character: '${bad}'` });
    t.is(error?.code, 'ERR_NBOX_USAGE');
  });
}

// feed pushes chunks through a filter: what went on, and whether it detached.
function feed(keys: readonly number[], chunks: string[]): { passed: string; detached: boolean } {
  const filter = new DetachFilter(keys);
  const passed = chunks.map((chunk) => filter.push(Buffer.from(chunk, 'latin1')).toString('latin1')).join('');
  return { passed, detached: filter.detached };
}

test('DetachFilter passes input on and stops at ctrl-p ctrl-q, typed key by key or in one chunk', (t) => {
  t.deepEqual(feed(DEFAULT_DETACH_KEYS, ['ls\r', '\x10', '\x11', 'after']), { passed: 'ls\r', detached: true });
  t.deepEqual(feed(DEFAULT_DETACH_KEYS, ['echo hi\r\x10\x11rest']), { passed: 'echo hi\r', detached: true });
});

test('DetachFilter holds a partial match back and passes it on when the sequence breaks', (t) => {
  // ctrl-p alone is input (the previous-command key of a shell): it goes on with the next key.
  const filter = new DetachFilter(DEFAULT_DETACH_KEYS);
  t.is(filter.push(Buffer.from('\x10')).length, 0);
  t.deepEqual([...filter.push(Buffer.from('x'))], [0x10, 0x78]);
  t.false(filter.detached);
  // ctrl-p ctrl-p ctrl-q: the first is input, the second starts the sequence.
  t.deepEqual(feed(DEFAULT_DETACH_KEYS, ['\x10', '\x10', '\x11']), { passed: '\x10', detached: true });
  t.deepEqual(feed([1, 2, 3], ['\x01\x02\x01\x02\x03']), { passed: '\x01\x02', detached: true });
});

test('DetachFilter with one key, and with none (every byte is input)', (t) => {
  t.deepEqual(feed([24], ['ab\x18cd']), { passed: 'ab', detached: true });
  t.deepEqual(feed([], ['\x10\x11']), { passed: '\x10\x11', detached: false });
});
