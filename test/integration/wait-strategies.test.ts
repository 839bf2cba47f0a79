// Container.waitFor: readiness strategies under one deadline, as test harnesses use them.
import { Wait } from '../../src/api';
import { rootTest, sharedTestStore } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

test('waitFor resolves once the log line has shown the given number of times and a command succeeds', async (t) => {
  await using c = await store.nbox.run('bb', { cmd: ['sh', '-c', 'sleep 0.2; echo ready; sleep 0.2; echo ready; touch /ok; exec sleep 60'], detach: true });
  await c.waitFor([Wait.forLog('ready', { times: 2 }), Wait.forExec(['test', '-e', '/ok'])], { timeout: 20_000 });
  t.is((await c.exec(['test', '-e', '/ok'], { stdio: 'ignore' })).exitCode, 0);
});

test('a timeout names what was still awaited and shows the last log lines', async (t) => {
  await using c = await store.nbox.run('bb', { cmd: ['sh', '-c', 'echo starting; echo still-busy >&2; exec sleep 60'], detach: true });
  const err = await t.throwsAsync(c.waitFor([Wait.forLog(/listening/), Wait.forExec(['true'])], { timeout: 1500 }));
  t.regex(err?.message ?? '', /still waiting for log line \/listening\//);
  t.notRegex(err?.message ?? '', /exec \["true"\]/, 'a strategy that held is not named');
  t.regex(err?.message ?? '', /stdout: starting\nstderr: still-busy/);
});

test('a container that exits before its log line fails the wait with that reason, not a timeout', async (t) => {
  await using c = await store.nbox.run('bb', { cmd: ['sh', '-c', 'echo bye'], detach: true });
  const err = await t.throwsAsync(c.waitFor([Wait.forLog('ready')], { timeout: 120_000 }));
  t.regex(err?.message ?? '', /exited before its log showed log line ready \(0 seen\)/);
});

test('forPort() and forHttp(path) with no port wait on what the container publishes; with nothing published they fail at once, saying so', async (t) => {
  const serve = 'mkdir /www && echo hello > /www/index.html && sleep 0.3 && exec httpd -f -h /www -p 80';
  await using web = await store.nbox.run('bb', { cmd: ['sh', '-c', serve], ports: [80], wait: [Wait.forPort(), Wait.forHttp('/')], deadline: 20_000 });
  const answer = await fetch(`http://${web.host}:${await web.port(80)}/`);
  t.is(await answer.text(), 'hello\n');

  await using quiet = await store.nbox.run('bb', { cmd: ['sleep', '60'], network: 'none' });
  const noPort = await t.throwsAsync(quiet.waitFor([Wait.forPort()], { timeout: 60_000 }));
  t.regex(noPort?.message ?? '', /forPort\(\): the container publishes no TCP port/);
  const noHttp = await t.throwsAsync(quiet.waitFor([Wait.forHttp('/')], { timeout: 60_000 }));
  t.regex(noHttp?.message ?? '', /forHttp\(\): give \{ port \}: the container publishes no TCP port/);
});

test('forHealthcheck() resolves once the health check passes; one that turns unhealthy fails the wait at once', async (t) => {
  // Failures in the start period do not count, as in Docker: the first probes run before /ready exists.
  const healthy = { cmd: 'test -e /ready', interval: '100ms', retries: 1, startPeriod: '20s' };
  await using ok = await store.nbox.run('bb', { cmd: ['sh', '-c', 'sleep 0.3; touch /ready; exec sleep 60'], network: 'none', healthcheck: healthy, wait: Wait.forHealthcheck(), deadline: 30_000 });
  t.is((await ok.record()).state.health?.status, 'healthy');

  await using sick = await store.nbox.run('bb', { cmd: ['sleep', '60'], network: 'none', healthcheck: { cmd: 'false', interval: '100ms', retries: 1 } });
  const err = await t.throwsAsync(sick.waitFor([Wait.forHealthcheck()], { timeout: 60_000 }));
  t.regex(err?.message ?? '', /container is unhealthy/);
});
