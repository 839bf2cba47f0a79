import test from 'ava';
import type { Instruction } from '../../../src/dockerfile/instructions';
import { expandMount } from '../../../src/dockerfile/run-mount';
import { formatInstruction, parseDockerfile } from '../../../src/dockerfile/stages';
import { DockerfileError } from '../../../src/errors';

// only types the lines after a FROM and returns the first instruction of the stage.
function only(lines: string): Instruction {
  return parseDockerfile(`FROM busybox\n${lines}\n`).stages[0].instructions[0];
}

function fails(lines: string, message: string) {
  return (t: import('ava').ExecutionContext) => {
    const error = t.throws(() => parseDockerfile(`FROM busybox\n${lines}\n`), { instanceOf: DockerfileError });
    t.is(error?.message, `Dockerfile:2: ${message}`);
  };
}

test('RUN: shell form is one string, exec form the argv, form recorded', (t) => {
  t.like(only('RUN echo  hi'), { kind: 'RUN', form: 'shell', command: ['echo  hi'], network: 'default', security: 'sandbox', mounts: [] });
  t.like(only('RUN ["echo", "hi"]'), { kind: 'RUN', form: 'exec', command: ['echo', 'hi'] });
});

test('RUN: heredoc bodies are attached, <<- tabs stripped', (t) => {
  t.like(only('RUN <<-EOF\n\techo hi\n\tEOF'), { command: ['<<-EOF'], heredocs: [{ name: 'EOF', content: 'echo hi\n', expand: true, fileDescriptor: 0 }] });
});

test('RUN --mount types parse with BuildKit defaults', (t) => {
  const run = only(
    'RUN --mount=type=cache,target=/c,id=$ID,sharing=locked,mode=0700,uid=1 --mount=target=/src,rw --mount=type=tmpfs,dst=/t,size=1g ' +
      '--mount=type=secret,id=tok,env=TOK,required --mount=type=ssh --network=none --security=insecure true',
  );
  t.like(run, { network: 'none', security: 'insecure' });
  t.deepEqual(run.kind === 'RUN' ? run.mounts : [], [
    { type: 'cache', target: '/c', id: '$ID', source: undefined, from: undefined, readOnly: false, sharing: 'locked', mode: 0o700, uid: 1, gid: undefined },
    { type: 'bind', target: '/src', source: undefined, from: undefined, readOnly: false },
    { type: 'tmpfs', target: '/t', sizeBytes: 1024 ** 3 },
    { type: 'secret', id: 'tok', target: undefined, env: 'TOK', required: true, mode: undefined, uid: undefined, gid: undefined },
    { type: 'ssh', id: undefined, target: undefined, required: false, mode: undefined, uid: undefined, gid: undefined },
  ]);
});

test('expandMount substitutes text values, not from', (t) => {
  const mount = expandMount({ type: 'bind', target: '$T', from: '$F', readOnly: true }, (value) => value.replace('$T', '/x'));
  t.deepEqual(mount, { type: 'bind', target: '/x', from: '$F', readOnly: true });
});

test('RUN --mount errors', (t) => {
  const cases: Array<[string, string]> = [
    ['type=bind,target=/x,mode=0700', 'mode not allowed for "bind" type mounts'],
    ['type=bind,size=1m,target=/x', "unexpected key 'size' for mount type 'bind'"],
    ['type=cache,target=/x,sharing=weird', 'unsupported sharing value "weird"'],
    ['type=secret,from=x,id=a', "unexpected key 'from' for mount type 'secret'"],
    ['type=secret', 'invalid secret mount. one of source, target required'],
    ['type=cache', 'mount type cache requires a target'],
    ['type=cache,target=/x,uid=$UID', 'invalid value $UID for uid'],
    ['target=/x,from=$S', "'from' doesn't support variable expansion, define alias stage instead"],
    ['targte=/x', "unexpected key 'targte' in 'targte=/x' (did you mean target?)"],
    ['source', "invalid field 'source' must be a key=value pair"],
    ['\\"target=/x', 'failed to parse csv mounts: extraneous or missing " in quoted-field'],
    ['target=/x\\"', 'failed to parse csv mounts: bare " in non-quoted-field'],
  ];
  for (const [spec, message] of cases) {
    const error = t.throws(() => only(`RUN --mount=${spec} true`), { instanceOf: DockerfileError }, spec);
    t.is(error?.detail, message, spec);
  }
  // Quotes around a flag's value are removed with the flag's; escaped ones reach the CSV.
  t.like(only('RUN --mount=type=bind,\\"target=/a,b\\" true'), { mounts: [{ type: 'bind', target: '/a,b' }] });
});

test('CMD and ENTRYPOINT keep form', (t) => {
  t.like(only('CMD ["a", "b"]'), { kind: 'CMD', form: 'exec', command: ['a', 'b'] });
  t.like(only("CMD ['a']"), { kind: 'CMD', form: 'shell', command: ["['a']"] });
  t.like(only('ENTRYPOINT exec app'), { kind: 'ENTRYPOINT', form: 'shell', command: ['exec app'] });
});

test('ENV: both forms, values unexpanded', (t) => {
  t.like(only('ENV A one two  three'), { kind: 'ENV', pairs: [{ key: 'A', value: 'one two  three' }] });
  t.like(only('ENV A=1 B="$A x"'), { kind: 'ENV', pairs: [{ key: 'A', value: '1' }, { key: 'B', value: '"$A x"' }] });
});

test('ARG: names and optional defaults', (t) => {
  t.like(only('ARG A B=1 C='), { kind: 'ARG', args: [{ key: 'A' }, { key: 'B', defaultValue: '1' }, { key: 'C', defaultValue: '' }] });
});

test('COPY and ADD flags, sources, heredoc sources and destination', (t) => {
  t.like(only('COPY --from=build --chown=1:2 --chmod=644 --link --parents --exclude=a --exclude=b s1 s2 /d/'), {
    kind: 'COPY',
    from: 'build',
    chown: '1:2',
    chmod: '644',
    link: true,
    parents: true,
    excludes: ['a', 'b'],
    sources: ['s1', 's2'],
    dest: '/d/',
  });
  t.like(only('COPY <<A s <<B /d/\na\nA\nb\nB'), { sources: ['s'], heredocs: [{ name: 'A', content: 'a\n' }, { name: 'B', content: 'b\n' }] });
  t.like(only('ADD --checksum=sha256:00 --keep-git-dir --unpack=false u /d'), { kind: 'ADD', checksum: 'sha256:00', keepGitDir: true, unpack: false, link: false });
  t.like(only('ADD ["a b", "/c"]'), { kind: 'ADD', form: 'exec', sources: ['a b'], dest: '/c' });
});

test('HEALTHCHECK: options in nanoseconds, CMD and CMD-SHELL, NONE', (t) => {
  t.like(only('HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=1h --start-interval=2s --retries=3 CMD ["a"]'), {
    test: ['CMD', 'a'],
    intervalNs: 90e9,
    timeoutNs: 500e6,
    startPeriodNs: 3600e9,
    startIntervalNs: 2e9,
    retries: 3,
  });
  t.like(only('HEALTHCHECK CMD curl -f x || exit 1'), { test: ['CMD-SHELL', 'curl -f x || exit 1'], intervalNs: 0, retries: 0 });
  t.like(only('HEALTHCHECK --interval=0s CMD x'), { intervalNs: 0 });
  t.like(only('healthcheck none'), { test: ['NONE'] });
});

test('ONBUILD keeps a typed trigger and its raw expression', (t) => {
  t.like(only('ONBUILD RUN echo  "x"'), { kind: 'ONBUILD', expression: 'RUN echo  "x"', trigger: { kind: 'RUN', command: ['echo  "x"'] } });
  t.like(only('onbuild COPY <<EOF /x\nbody\nEOF'), { expression: 'COPY <<EOF /x\nbody\nEOF', trigger: { kind: 'COPY', heredocs: [{ name: 'EOF', content: 'body\n' }] } });
});

test('one-argument instructions, EXPOSE and VOLUME', (t) => {
  t.like(only('WORKDIR /a b'), { kind: 'WORKDIR', path: '/a b' });
  t.like(only('USER app:app'), { kind: 'USER', user: 'app:app' });
  t.like(only('STOPSIGNAL SIGINT'), { kind: 'STOPSIGNAL', signal: 'SIGINT' });
  t.like(only('MAINTAINER Jane <j@x>'), { kind: 'MAINTAINER', maintainer: 'Jane <j@x>' });
  t.like(only('EXPOSE 80 53/udp'), { kind: 'EXPOSE', ports: ['80', '53/udp'] });
  t.like(only('VOLUME ["/a", "/b"]'), { kind: 'VOLUME', form: 'exec', paths: ['/a', '/b'] });
  t.like(only('LABEL a=b'), { kind: 'LABEL', pairs: [{ key: 'a', value: 'b' }] });
  t.like(only('SHELL ["bash", "-c"]'), { kind: 'SHELL', shell: ['bash', '-c'] });
});

test('FROM: image, platform, lower-cased stage name', (t) => {
  const { from } = parseDockerfile('FROM --platform=linux/amd64 img:1 AS Build\n').stages[0];
  t.like(from, { kind: 'FROM', image: 'img:1', platform: 'linux/amd64', stageName: 'build' });
  t.like(parseDockerfile('FROM --platform=$BUILDPLATFORM img\n').stages[0].from, { platform: '$BUILDPLATFORM' });
});

test('FROM --platform: the platform the caller builds for, its bare architecture or a variable pass', (t) => {
  const platform = 'linux/riscv64';
  for (const given of ['linux/riscv64', 'Linux/RISCV64', 'riscv64', '$BUILDPLATFORM']) {
    t.like(parseDockerfile(`FROM --platform=${given} img\n`, { platform }).stages[0].from, { platform: given });
  }
});

test('FROM --platform: another platform fails at its line, naming the one built for', (t) => {
  const error = t.throws(() => parseDockerfile('FROM img\nFROM --platform=linux/amd64 img\n', { file: 'Dockerfile', platform: 'linux/riscv64' }), { instanceOf: DockerfileError });
  t.is(error?.message, 'Dockerfile:2: unsupported platform "linux/amd64": nbox builds for linux/riscv64 only');
});

test('FROM --platform is not checked when the caller names no platform (parsing alone)', (t) => {
  t.like(parseDockerfile('FROM --platform=linux/s390x img\n').stages[0].from, { platform: 'linux/s390x' });
});

test('unknown flag names the instruction', fails('RUN --mnt=type=cache true', 'unknown flag for RUN: --mnt (did you mean --mount?)'));
test('flags on instructions without flags are unknown', fails('WORKDIR --x /a', 'unknown flag for WORKDIR: --x'));
test('a duplicated single-value flag is an error', fails('COPY --from=a --from=b x y', 'duplicate flag specified: --from'));
test('a boolean flag takes true or false', fails('COPY --link=yes a b', 'expecting boolean value for flag --link, not: yes'));
test('a boolean flag with an empty value is an error', fails('COPY --link= a b', 'missing a value on flag: --link'));
test('COPY heredoc destination is an error', fails('COPY a <<EOF\nEOF', 'COPY cannot accept a heredoc as a destination'));
test('WORKDIR takes exactly one argument', fails('WORKDIR', 'WORKDIR requires exactly one argument'));
test('EXPOSE needs an argument', fails('EXPOSE', 'EXPOSE requires at least one argument'));
test('HEALTHCHECK NONE takes no arguments', fails('HEALTHCHECK NONE x', 'HEALTHCHECK NONE takes no arguments'));
test('HEALTHCHECK CMD needs a command', fails('HEALTHCHECK CMD', 'Missing command after HEALTHCHECK CMD'));
test('HEALTHCHECK intervals are at least 1ms', fails('HEALTHCHECK --timeout=10us CMD x', 'Interval "timeout" cannot be less than 1ms'));
test('HEALTHCHECK retries are a non-negative integer', fails('HEALTHCHECK --retries=-1 CMD x', '--retries cannot be negative (-1)'));
test('HEALTHCHECK retries must be a number', fails('HEALTHCHECK --retries=x CMD x', 'invalid value for --retries: "x"'));
test('ONBUILD MAINTAINER is an error', fails('ONBUILD MAINTAINER me', "MAINTAINER isn't allowed as an ONBUILD trigger"));
test('ONBUILD needs a trigger', fails('ONBUILD', 'ONBUILD requires at least one argument'));
test('ENV key without = in the key=value form', fails('ENV A=1 B', 'Syntax error - can\'t find = in "B". Must be of the form: name=value'));
test('ARG with an empty name', fails('ARG =x', 'ARG names can not be blank'));
test('an unterminated quote in LABEL', fails("LABEL a='b", 'failed to process "\'b": unexpected end of statement while looking for matching single-quote'));
test('VOLUME with an empty JSON path', fails('VOLUME [""]', 'VOLUME specified can not be an empty string'));
test('SHELL [] is an error', fails('SHELL []', 'SHELL requires at least one argument'));
test('--security must be sandbox or insecure', fails('RUN --security=x true', 'security "x" is not valid'));

test('formatInstruction joins continuation lines with single spaces', (t) => {
  const dockerfile = parseDockerfile('FROM debian\nRUN apt-get -y update && \\\n    apt-get install -y cowsay\n');
  t.is(formatInstruction(dockerfile.stages[0].instructions[0]), 'RUN apt-get -y update && apt-get install -y cowsay');
  t.is(formatInstruction(dockerfile.stages[0].from), 'FROM debian');
});
