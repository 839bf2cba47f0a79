// The library API as a test suite uses it: each test here is an example a
// harness can copy (the README's side-by-side one is the first).
import { Nbox, Wait, WaitTimeoutError, type Container, type ContainerRunOptions } from '../../src/api';
import { rootTest, sharedTestStore } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);
// In a suite of its own: `const nbox = await Nbox.open()` (the store at /var/lib/nbox, or NBOX_ROOT).
const open = (): Promise<Nbox> => Nbox.open({ root: store.root });

test('a web server: started, ready when it answers, reached through its published port, gone at the end', async (t) => {
  const nbox = await open();
  await using web = await nbox.run('bb', {
    cmd: ['sh', '-c', 'mkdir /www && echo hello > /www/index.html && exec httpd -f -h /www -p 80'],
    ports: [80],
    wait: Wait.forHttp('/', { port: 80 }),
  });
  const response = await fetch(`http://${web.host}:${await web.port(80)}/`);
  t.is(await response.text(), 'hello\n');
});

test('an image built from a Dockerfile in the test, configured with a file, checked with exec', async (t) => {
  const nbox = await open();
  await nbox.build({ dockerfile: 'FROM bb\nRUN mkdir /app\nCMD ["sh", "-c", "cat /app/config; echo started; exec sleep 600"]\n', tags: ['example-app'] });
  const options: ContainerRunOptions = {
    files: [{ target: '/app/config', content: 'mode=test\n' }],
    wait: [Wait.forLog('started'), Wait.forExec(['test', '-f', '/app/config'])],
    deadline: 30_000,
    network: 'none',
  };
  await using app: Container = await nbox.run('example-app', options);
  t.like(await app.exec(['cat', '/app/config']), { exitCode: 0, stdout: 'mode=test\n' });
  await app.writeFile('/app/state', 'ready\n');
  t.is((await app.readFile('/app/state')).toString(), 'ready\n');
  const lines: string[] = [];
  for await (const entry of app.logs()) lines.push(entry.line);
  t.deepEqual(lines, ['mode=test', 'started']);
});

test('a service that never gets ready fails the run, names what it waited for, and is removed', async (t) => {
  const nbox = await open();
  const err = await t.throwsAsync(nbox.run('bb', { name: 'stuck', cmd: ['sh', '-c', 'echo migrating; exec sleep 600'], network: 'none', wait: Wait.forLog('accepting connections'), deadline: 1000 }), { instanceOf: WaitTimeoutError });
  t.deepEqual(err?.waitingFor, ['log line accepting connections']);
  t.deepEqual(err?.lastLogLines, ['stdout: migrating']);
  t.deepEqual((await nbox.listContainers({ all: true })).filter((c) => c.config.name === 'stuck'), []);
});
