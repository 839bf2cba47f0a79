// HEALTHCHECK in the monitor (native/monitor.c, health_*): probes run in the
// container through the join mode, and their results make the health that
// state.json, ps and inspect show, as moby's handleProbeResult.
import { cli, rootTest, sharedTestStore } from '../helpers/env';
import { runDetached, stateOf, until, type State } from '../helpers/detached';

const test = rootTest();
const store = sharedTestStore(test);

interface Probe { start: string; end: string; exitCode: number; output: string }
type HealthState = State & { health?: { status: string; failingStreak: number; log: Probe[] } };
const health = (id: string) => (stateOf(store.root, id) as HealthState | null)?.health;

test('starting, then unhealthy after retries failures, then healthy once the probe passes; ps and inspect say so', async (t) => {
  const id = await runDetached(t, store.root, ['--health-cmd', 'test -e /ok', '--health-interval', '500ms', '--health-retries', '2', 'bb', 'sleep', '60']);
  t.is((await until('a first state', () => health(id)))?.status, 'starting');
  const unhealthy = await until('unhealthy', () => (health(id)?.status === 'unhealthy' ? health(id) : undefined));
  t.true(unhealthy!.failingStreak >= 2);
  t.like(unhealthy!.log[0], { exitCode: 1, output: '' });
  t.is((await cli(store.root, ['exec', id, 'touch', '/ok'])).code, 0);
  const healthy = await until('healthy', () => (health(id)?.status === 'healthy' ? health(id) : undefined));
  t.is(healthy!.failingStreak, 0);
  t.is(healthy!.log.at(-1)!.exitCode, 0);
  t.true(Date.parse(healthy!.log.at(-1)!.end) >= Date.parse(healthy!.log.at(-1)!.start));
  t.regex((await cli(store.root, ['ps', '--filter', `id=${id}`])).stdout, /Up .* \(healthy\)/);
  t.is((await cli(store.root, ['inspect', '-f', '{{.State.Health.Status}}', id])).stdout, 'healthy\n');
  // Many probes later the log still holds the last five.
  await until('five probes on record', () => (health(id)!.log.length === 5 ? true : undefined));
  const fifth = health(id)!.log[4].start;
  await until('a sixth probe', () => (health(id)!.log[4].start !== fifth ? true : undefined));
  t.is(health(id)!.log.length, 5);
});

test('a probe that outlives its timeout is killed: exit -1 and Docker\'s text; its output is capped at 4096 bytes', async (t) => {
  const slow = await runDetached(t, store.root, ['--health-cmd', 'sleep 30', '--health-timeout', '300ms', '--health-interval', '100ms', 'bb', 'sleep', '60']);
  const timedOut = await until('a timed-out probe', () => health(slow)?.log[0]);
  t.like(timedOut, { exitCode: -1, output: 'Health check exceeded timeout (300ms)' });
  const loud = await runDetached(t, store.root, ['--health-cmd', 'head -c 10000 /dev/zero | tr "\\0" x; echo err >&2', '--health-interval', '100ms', 'bb', 'sleep', '60']);
  const probe = await until('a loud probe', () => health(loud)?.log[0]);
  t.is(probe.exitCode, 0);
  t.is(probe.output, 'x'.repeat(4096));
});

test("a probe command that does not exist counts as a failure with the shell's line", async (t) => {
  const id = await runDetached(t, store.root, ['--health-cmd', 'nosuch-probe', '--health-interval', '100ms', '--health-retries', '1', 'bb', 'sleep', '60']);
  const failed = await until('unhealthy', () => (health(id)?.status === 'unhealthy' ? health(id) : undefined));
  // CMD-SHELL: the shell says it.
  t.is(failed!.log[0].exitCode, 127);
  t.regex(failed!.log[0].output, /nosuch-probe/);
});
