import test from 'ava';
import { planBuild } from '../../../src/builder/plan';
import { parseDockerfile } from '../../../src/dockerfile/stages';
import { DockerfileError } from '../../../src/errors';

const plan = (text: string) => planBuild(parseDockerfile(text), new Map());

test('COPY --from naming the stage it is in is a circular dependency, never an image of that name', (t) => {
  for (const from of ['b', 'B', '1']) {
    const err = t.throws(() => plan(`FROM bb AS a\nFROM a AS b\nCOPY --from=${from} /x /y\n`), { instanceOf: DockerfileError });
    t.regex(err!.message, /^Dockerfile:3: circular dependency detected on stage: (b|1)$/, from);
  }
});

test('COPY --from an earlier stage builds that stage first', (t) => {
  const built = plan('FROM bb AS a\nFROM bb AS unused\nFROM bb AS b\nCOPY --from=a /x /y\n');
  t.deepEqual(built.stages.map((stage) => stage.name), ['a', 'b']);
});
