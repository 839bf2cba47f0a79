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
