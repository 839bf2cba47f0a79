import test from 'ava';
import { parseDockerfile } from '../../../src/dockerfile/stages';
import { DockerfileError } from '../../../src/errors';

test('global ARGs, numbered and named stages', (t) => {
  const dockerfile = parseDockerfile('# escape=`\nARG A\nARG B=1\nFROM a AS one\nRUN x\nFROM one\nCOPY --from=one /a /b\nCMD y\n');
  t.is(dockerfile.escapeChar, '`');
  t.deepEqual(dockerfile.directives, [{ name: 'escape', value: '`', line: 1 }]);
  t.deepEqual(
    dockerfile.globalArgs.map((arg) => arg.args),
    [[{ key: 'A' }], [{ key: 'B', defaultValue: '1' }]],
  );
  t.deepEqual(
    dockerfile.stages.map((stage) => [stage.index, stage.name, stage.from.image, stage.instructions.map((i) => i.kind)]),
    [
      [0, 'one', 'a', ['RUN']],
      [1, undefined, 'one', ['COPY', 'CMD']],
    ],
  );
});

test('errors name the file given', (t) => {
  const error = t.throws(() => parseDockerfile('FROM a\nRUNN x\n', { file: 'sub/Dockerfile.dev' }), { instanceOf: DockerfileError });
  t.is(error?.message, 'sub/Dockerfile.dev:2: unknown instruction: RUNN (did you mean RUN?)');
  t.is(error?.file, 'sub/Dockerfile.dev');
  t.is(error?.line, 2);
});

test('instructions before FROM other than ARG are an error', (t) => {
  t.throws(() => parseDockerfile('ENV A=1\nFROM a\n'), { message: 'Dockerfile:1: no build stage in current context' });
});

test('an empty file has no instructions', (t) => {
  t.throws(() => parseDockerfile(''), { message: 'Dockerfile:1: file with no instructions' });
  t.throws(() => parseDockerfile('\n\n# c\n'), { message: 'Dockerfile:3: file with no instructions' });
});
