// What test harnesses tripped on in the library API: a disposed container left
// listed, an exec failure that could not reject, build progress through nine callbacks.
import { ExecError, type BuildEvent } from '../../src/api';
import { fileScope, rootTest, sharedTestStore, writeContext } from '../helpers/env';

const test = rootTest();
const scope = fileScope(test);
const store = sharedTestStore(test);

test('disposing a foreground container removes it, as it removes a detached one', async (t) => {
  let id = '';
  {
    await using c = await store.nbox.run('bb', { cmd: ['sleep', '60'], stdio: 'ignore', network: 'none' });
    id = c.id;
  }
  t.deepEqual((await store.nbox.listContainers({ all: true })).filter((c) => c.config.id === id), []);
  {
    await using done = await store.nbox.run('bb', { cmd: ['true'], stdio: 'ignore', network: 'none' });
    id = done.id;
    await done.exited;
  }
  t.deepEqual((await store.nbox.listContainers({ all: true })).filter((c) => c.config.id === id), [], 'one that had ended too');
});

// A Container handle's full ID is locked without a read first: one removed since is still "No such container".
test('remove of a container removed meanwhile, by its full ID, is No such container; by a name that is an ID, it is found', async (t) => {
  const c = await store.nbox.run('bb', { cmd: ['sleep', '60'], network: 'none' });
  await c.remove({ force: true });
  await t.throwsAsync(c.remove({ force: true }), { message: `No such container: ${c.id}` });
  const named = await store.nbox.run('bb', { cmd: ['sleep', '60'], network: 'none', name: 'a'.repeat(64) });
  await store.nbox.removeContainer('a'.repeat(64), { force: true });
  t.deepEqual((await store.nbox.listContainers({ all: true })).filter((row) => row.config.id === named.id), []);
});

test('exec with reject: a non-zero exit rejects with the code and the output', async (t) => {
  await using c = await store.nbox.run('bb', { cmd: ['sleep', '60'], detach: true, network: 'none' });
  const err = await t.throwsAsync(c.exec(['sh', '-c', 'echo partial; echo broke >&2; exit 3'], { reject: true }), { instanceOf: ExecError });
  t.like(err, { exitCode: 3, stdout: 'partial\n', stderr: 'broke\n' });
  t.regex(err?.message ?? '', /exited with code 3: broke/);
  t.like(await c.exec(['sh', '-c', 'exit 3']), { exitCode: 3 }, 'without reject the code is returned');
  t.like(await c.exec(['true'], { reject: true }), { exitCode: 0 });
});

test('build progress comes as one stream of events', async (t) => {
  const context = await writeContext(scope, { Dockerfile: 'FROM bb\nRUN echo hi > /f\nLABEL a=b\n' });
  const events: BuildEvent[] = [];
  const id = await store.nbox.build({ context, tags: ['events:1'], onProgress: (event) => events.push(event) });
  t.deepEqual(events.filter((e) => e.type === 'step').map((e) => (e.type === 'step' ? [e.index, e.total, e.text] : [])), [
    [1, 3, 'FROM bb'],
    [2, 3, 'RUN echo hi > /f'],
    [3, 3, 'LABEL a=b'],
  ]);
  t.true(events.some((e) => e.type === 'running'));
  t.deepEqual(events.slice(-2), [{ type: 'built', imageId: id }, { type: 'tagged', name: 'events:1' }]);
});

test('arguments of the wrong type reject with one clear NboxError, before anything is made', async (t) => {
  const before = (await store.nbox.listContainers({ all: true })).length;
  // A JavaScript caller, past the .d.ts: a number in an argv aborted the whole process in the addon.
  const loose = store.nbox as unknown as { run(image: unknown, options?: unknown): Promise<unknown>; create(image: unknown, options?: unknown): Promise<unknown> };
  const refused: Array<[Promise<unknown>, string]> = [
    [loose.run('bb', { cmd: ['echo', 5], stdio: 'pipe', network: 'none' }), 'run: option cmd must be an array of strings'],
    [loose.run('bb', { cmd: ['echo', 5], network: 'none' }), 'run: option cmd must be an array of strings'],
    [loose.run(42), 'run: the image must be a non-empty string'],
    [loose.run('bb', { env: { A: '1' } }), 'run: option env must be an array of strings'],
    [loose.run('bb', { wait: 'ready' }), 'run: option wait must be a wait strategy (Wait.forLog(…), …) or an array of them'],
    [loose.create('bb', { tmpfs: ['/x'] }), 'create: option tmpfs must be an object of strings'],
  ];
  for (const [call, message] of refused) {
    const err = await t.throwsAsync(call);
    t.like(err, { code: 'ERR_NBOX_USAGE', message });
  }
  await using c = await store.nbox.run('bb', { cmd: ['sleep', '60'], network: 'none' });
  const exec = c.exec as unknown as (cmd: unknown, options?: unknown) => Promise<unknown>;
  for (const [cmd, options, message] of [
    [['echo', 5], {}, 'exec: the command must be a non-empty array of strings'],
    ['true', {}, 'exec: the command must be a non-empty array of strings'],
    [['id'], { user: 0 }, 'exec: option user must be a string'],
  ] as const) {
    t.like(await t.throwsAsync(exec.call(c, cmd, options)), { code: 'ERR_NBOX_USAGE', message });
  }
  t.is((await store.nbox.listContainers({ all: true })).length, before + 1);
});
