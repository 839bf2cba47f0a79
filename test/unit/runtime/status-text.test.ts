import test from 'ava';
import { psStatus } from '../../../src/runtime/status-text';
import { NOW, STATES, ago, health, record } from './records';

test("STATUS words each state as moby's State.String()", (t) => {
  t.deepEqual(Object.fromEntries(Object.entries(STATES).map(([key, r]) => [key, psStatus(r.state, NOW)])), {
    created: 'Created',
    failedStart: 'Exited (127) 5 seconds ago',
    running: 'Up 3 seconds',
    paused: 'Up 3 seconds (Paused)',
    healthy: 'Up 3 seconds (healthy)',
    starting: 'Up 2 minutes (health: starting)',
    unhealthy: 'Up About an hour (unhealthy)',
    restarting: 'Restarting (1) 5 seconds ago',
    exited: 'Exited (0) 5 seconds ago',
    exitedUnhealthy: 'Exited (3) About a minute ago',
  });
});

test('STATUS durations use Docker units wording', (t) => {
  const up = (ms: number) => psStatus(record({ status: 'running', pid: 1, startedAt: ago(ms), health: health('healthy') }).state, NOW);
  t.is(up(999), 'Up Less than a second (healthy)');
  t.is(up(1000), 'Up 1 second (healthy)');
  t.is(up(119_000), 'Up About a minute (healthy)');
  t.is(up(89 * 60_000), 'Up About an hour (healthy)');
  t.is(up(3 * 24 * 3600_000), 'Up 3 days (healthy)');
  // A record without a finish time prints nothing, as Docker's zero FinishedAt does.
  t.is(psStatus(record({ status: 'exited', startedAt: ago(5000) }).state, NOW), '');
});
