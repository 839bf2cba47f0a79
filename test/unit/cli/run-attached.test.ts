import test from 'ava';

import type { Nbox } from '../../../src/api';
import { runAttached } from '../../../src/cli/run-attached';

// Removing a signal's last listener gives the signal its default action back: a SIGTERM meant for the
// container would then end nbox (rc 143) in the gap between the start's proxy and the session's.
test('a foreground run keeps a SIGTERM listener from the start through the session: no moment has the default action', async (t) => {
  const counts: number[] = [];
  const off = process.off.bind(process);
  process.off = ((event: string, listener: (...args: unknown[]) => void) => {
    off(event, listener);
    if (event === 'SIGTERM') counts.push(process.listenerCount('SIGTERM'));
    return process;
  }) as typeof process.off;
  t.teardown(() => void (process.off = off));
  const session = {
    write: () => {}, endInput: () => {}, resize: () => {}, close: () => {},
    ended: Promise.resolve(), exitCode: Promise.resolve(0),
  };
  const nbox = {
    create: async () => ({ id: 'c1' }),
    startContainer: async () => session,
    killContainer: async () => {},
  } as unknown as Nbox;
  const before = process.exitCode;
  t.teardown(() => void (process.exitCode = before));
  await runAttached(nbox, 'bb', {}, { tty: false, interactive: false });
  // The start's listener goes while the session's is on; the session's goes once the container has ended.
  t.deepEqual(counts, [1, 0]);
});
