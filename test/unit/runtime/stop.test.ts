import test from 'ava';

import type { ContainerRecord } from '../../../src/runtime/container-record';
import type { ContainerRegistry } from '../../../src/runtime/container-registry';
import { parseSignal, waitContainer } from '../../../src/runtime/stop';
import { record } from './records';

test('a signal is taken as Docker takes it: a name with or without SIG, any case, or a number', (t) => {
  t.is(parseSignal('KILL'), 9);
  t.is(parseSignal('SIGTERM'), 15);
  t.is(parseSignal('hup'), 1);
  t.is(parseSignal('10'), 10);
});

test('an unknown name, 0 or a number past 64 is refused with Docker\'s line', (t) => {
  for (const bad of ['NOPE', 'SIG', '0', '65', '-1', '']) t.throws(() => parseSignal(bad), { message: `Invalid signal: ${bad}` }, bad);
});

test('wait reads the exit a monitor wrote just before it ended, not 137: it reads again once it sees the monitor gone', async (t) => {
  // A monitor that is gone (no process has pid 2^22+1) and a container whose init is gone too.
  const gone = { pid: 4194305, startTime: 1 };
  const running = record({ status: 'running', pid: 4194305, pidStartTime: 1, owner: gone });
  const exited = record({ status: 'exited', exitCode: 4, owner: gone });
  // The first read sees the container running; the monitor writes its exit and ends before the next.
  const reads = [running, exited];
  const containers = { readRecorded: async () => reads.shift() ?? exited } as unknown as ContainerRegistry;
  t.is(await waitContainer(containers, running as ContainerRecord, 'c1'), 4);
});
