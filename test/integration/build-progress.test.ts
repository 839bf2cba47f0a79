// The library's build progress carries RUN's output as `output` events,
// between the step's `running` and its `result`.
import type { BuildEvent } from '../../src/api';
import { rootTest, sharedTestStore, writeContext } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

test("onProgress gets RUN's stdout and stderr as output events, in the step's place", async (t) => {
  const context = await writeContext(t, { Dockerfile: 'FROM bb\nRUN echo from-run; echo from-err >&2\nCMD ["true"]\n' });
  const events: BuildEvent[] = [];
  await store.nbox.build({ context, noCache: true, onProgress: (event) => events.push(event) });
  const output = events.filter((e): e is Extract<BuildEvent, { type: 'output' }> => e.type === 'output').map((e) => e.text).join('');
  t.is(output, 'from-run\nfrom-err\n');
  const types = events.map((e) => e.type);
  const firstOutput = types.indexOf('output');
  t.true(types.indexOf('running') < firstOutput && firstOutput < types.indexOf('result', types.indexOf('running')));
});
