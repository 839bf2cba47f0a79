// `nbox build` for real: steps run in containers, layers come from overlay
// upper dirs, the cache and the classic builder's output.
import type { ExecutionContext } from 'ava';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { cli, exitCodeOf, rootTest, sharedTestStore, spawnCli, writeContext } from '../helpers/env';
import { until } from '../helpers/detached';

const test = rootTest();
const store = sharedTestStore(test);

/** context writes files (path → content) into a fresh directory removed after the test. */

async function build(t: ExecutionContext, dir: string, args: string[] = [], expectedCode = 0) {
  const r = await cli(store.root, ['build', ...args, dir]);
  t.is(r.code, expectedCode, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

async function runImage(t: ExecutionContext, image: string, cmd: string[] = []) {
  const r = await cli(store.root, ['run', '--rm', image, ...cmd]);
  t.is(r.code, 0, r.stderr);
  return r.stdout;
}

async function inspect(image: string) {
  return JSON.parse((await cli(store.root, ['inspect', '--type', 'image', image])).stdout)[0];
}

const FIVE_STEPS = ['FROM bb', 'ENV GREETING=hello', 'WORKDIR /app', 'RUN echo "$GREETING from run" > /app/run.txt', 'COPY note.txt /app/', 'CMD ["cat", "/app/run.txt", "/app/note.txt"]', ''].join('\n');

test('a build prints the classic steps, tags the image, and the image runs', async (t) => {
  const dir = await writeContext(t, { Dockerfile: FIVE_STEPS, 'note.txt': 'a note\n' });
  const r = await build(t, dir, ['-t', 'five:latest']);
  const lines = r.stdout.trim().split('\n');
  t.deepEqual(lines.filter((l) => l.startsWith('Step ')), [
    'Step 1/6 : FROM bb',
    'Step 2/6 : ENV GREETING=hello',
    'Step 3/6 : WORKDIR /app',
    'Step 4/6 : RUN echo "$GREETING from run" > /app/run.txt',
    'Step 5/6 : COPY note.txt /app/',
    'Step 6/6 : CMD ["cat", "/app/run.txt", "/app/note.txt"]',
  ]);
  t.regex(r.stdout, / ---> Running in [0-9a-f]{12}\n/);
  t.regex(r.stdout, /Removing intermediate container [0-9a-f]{12}\n/);
  t.regex(r.stdout, /Successfully built [0-9a-f]{12}\nSuccessfully tagged five:latest\n$/);
  t.is(await runImage(t, 'five'), 'hello from run\na note\n');
  const config = await inspect('five');
  t.true(config.Config.Env.includes('GREETING=hello'));
  t.is(config.Config.WorkingDir, '/app');
  // The base, WORKDIR's (it makes /app, as Docker does), RUN's and COPY's.
  t.is(config.RootFS.Layers.length, 4);
});

test('a second build uses the cache for every step and yields the same image', async (t) => {
  const dir = await writeContext(t, { Dockerfile: FIVE_STEPS, 'note.txt': 'cached\n' });
  const first = await build(t, dir, ['-q']);
  const second = await build(t, dir);
  t.is((second.stdout.match(/ ---> Using cache\n/g) ?? []).length, 5);
  t.false(second.stdout.includes('Running in'));
  t.regex(second.stdout, new RegExp(`Successfully built ${first.stdout.trim().slice(7, 19)}\n`));
});

test('cache misses: changed COPY content, changed build arg, changed instruction; --no-cache', async (t) => {
  const dockerfile = ['FROM bb', 'ARG V=1', 'RUN echo "v=$V" > /v', 'COPY f /f', 'RUN cat /v /f', ''].join('\n');
  const dir = await writeContext(t, { Dockerfile: dockerfile, f: 'one\n' });
  await build(t, dir);
  const touched = await build(t, dir);
  t.is((touched.stdout.match(/Using cache/g) ?? []).length, 4);
  await writeFile(join(dir, 'f'), 'two\n');
  const content = await build(t, dir);
  t.is((content.stdout.match(/Using cache/g) ?? []).length, 2, 'ARG and the first RUN are cached; COPY and after are not');
  const arg = await build(t, dir, ['--build-arg', 'V=2']);
  t.is((arg.stdout.match(/Using cache/g) ?? []).length, 1, 'only ARG is cached once V changes');
  await writeFile(join(dir, 'Dockerfile'), dockerfile.replace('cat /v /f', 'cat /f /v'));
  const instruction = await build(t, dir);
  t.is((instruction.stdout.match(/Using cache/g) ?? []).length, 3);
  const none = await build(t, dir, ['--no-cache']);
  t.false(none.stdout.includes('Using cache'));
});

test('whiteouts: a file deleted by RUN is gone at run time; a replaced dir holds only its new contents', async (t) => {
  const dockerfile = [
    'FROM bb',
    'RUN mkdir -p /d/sub && echo old > /d/old && echo keep > /keep && echo gone > /gone',
    'RUN rm /gone && rm -rf /d && mkdir /d && echo new > /d/new',
    '',
  ].join('\n');
  const dir = await writeContext(t, { Dockerfile: dockerfile });
  await build(t, dir, ['-t', 'whiteout']);
  t.is(await runImage(t, 'whiteout', ['sh', '-c', 'ls /d; test -e /gone && echo present || echo absent; cat /keep']), 'new\nabsent\nkeep\n');
});

test('a failing RUN: Docker message with the Dockerfile line, no tag, earlier steps cached', async (t) => {
  const dir = await writeContext(t, { Dockerfile: 'FROM bb\nRUN echo step-one > /one\nRUN false\n' });
  const failed = await build(t, dir, ['-t', 'never:latest'], 1);
  t.regex(failed.stderr, /^nbox: Dockerfile:3: The command '\/bin\/sh -c false' returned a non-zero code: 1\n$/);
  t.is((await cli(store.root, ['inspect', 'never'])).code, 1);
  const again = await build(t, dir, [], 1);
  t.regex(again.stdout, /Step 2\/3 : RUN echo step-one > \/one\n ---> Using cache\n/);
  const tmp = await readdir(join(store.root, 'tmp'));
  t.deepEqual(tmp, [], 'no half-written layer left');
});

test('bad Dockerfiles fail with file:line and leave no tag', async (t) => {
  const unknown = await build(t, await writeContext(t, { Dockerfile: 'FROM bb\nRUNN true\n' }), ['-t', 'bad1'], 1);
  t.regex(unknown.stderr, /^nbox: Dockerfile:2: unknown instruction: RUNN/);
  const missing = await build(t, await writeContext(t, { Dockerfile: 'FROM bb\nCOPY nope.txt /\n' }), ['-t', 'bad2'], 1);
  t.regex(missing.stderr, /^nbox: Dockerfile:2: COPY failed: .*nope\.txt/);
  const from = await build(t, await writeContext(t, { Dockerfile: 'FROM bb\nCOPY --from=nostage /x /x\n' }), ['-t', 'bad3'], 1);
  t.regex(from.stderr, /^nbox: Dockerfile:2: .*nostage/);
  const noFrom = await build(t, await writeContext(t, { Dockerfile: 'RUN true\n' }), ['-t', 'bad4'], 1);
  t.regex(noFrom.stderr, /^nbox: Dockerfile:1: /);
  const signal = await build(t, await writeContext(t, { Dockerfile: 'FROM bb\nSTOPSIGNAL SIGNOPE\n' }), ['-t', 'bad5'], 1);
  t.regex(signal.stderr, /^nbox: Dockerfile:2: Invalid signal: SIGNOPE/);
  for (const tag of ['bad1', 'bad2', 'bad3', 'bad4', 'bad5']) t.is((await cli(store.root, ['inspect', tag])).code, 1);
});

test('STOPSIGNAL takes a name as Docker does, with or without SIG, in any case, kept as written; stop sends it', async (t) => {
  await build(t, await writeContext(t, { Dockerfile: 'FROM bb\nSTOPSIGNAL usr1\n' }), ['-t', 'bare-signal']);
  t.is((await inspect('bare-signal')).Config.StopSignal, 'usr1');
  const run = await cli(store.root, ['run', '-d', 'bare-signal', 'sh', '-c', 'trap "echo got-usr1; exit 0" USR1; echo up; while :; do sleep 0.1; done']);
  const id = run.stdout.trim();
  t.teardown(() => cli(store.root, ['rm', '-f', id]));
  await until('the trap', async () => ((await cli(store.root, ['logs', id])).stdout.includes('up') ? true : undefined));
  t.is((await cli(store.root, ['stop', id])).code, 0);
  t.is((await cli(store.root, ['logs', id])).stdout, 'up\ngot-usr1\n');
  t.is((await cli(store.root, ['wait', id])).stdout, '0\n');
});

test('multi-stage: COPY --from a named stage, --target, and unneeded stages are skipped', async (t) => {
  const dockerfile = [
    'FROM bb AS builder',
    'RUN echo built > /artifact',
    'FROM bb AS broken',
    'RUN exit 1',
    'FROM bb',
    'COPY --from=builder /artifact /artifact',
    'CMD ["cat", "/artifact"]',
    '',
  ].join('\n');
  const dir = await writeContext(t, { Dockerfile: dockerfile });
  const r = await build(t, dir, ['-t', 'multi']);
  t.false(r.stdout.includes('exit 1'));
  t.is(await runImage(t, 'multi'), 'built\n');
  await build(t, dir, ['--target', 'builder', '-t', 'just-builder']);
  t.is(await runImage(t, 'just-builder', ['cat', '/artifact']), 'built\n');
});

test('.dockerignore keeps files out of COPY', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: 'FROM bb\nCOPY . /ctx/\nCMD ["ls", "-A", "/ctx"]\n',
    '.dockerignore': '*.log\nsecret/\n!secret/public\n',
    'keep.txt': 'k',
    'debug.log': 'x',
    'secret/key': 'x',
    'secret/public': 'p',
  });
  await build(t, dir, ['-t', 'ignored']);
  t.is(await runImage(t, 'ignored'), '.dockerignore\nDockerfile\nkeep.txt\nsecret\n');
  t.is(await runImage(t, 'ignored', ['ls', '/ctx/secret']), 'public\n');
});

test('metadata instructions land in the image config', async (t) => {
  const dockerfile = [
    'FROM bb',
    'MAINTAINER someone@example.com',
    'LABEL org.example.name="nbox test" version=1',
    'EXPOSE 80 443/udp',
    'VOLUME ["/data"]',
    'USER app',
    'STOPSIGNAL SIGINT',
    'HEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost || exit 1',
    'SHELL ["/bin/sh", "-ec"]',
    'ENTRYPOINT echo from-shell-entrypoint',
    '',
  ].join('\n');
  await build(t, await writeContext(t, { Dockerfile: dockerfile }), ['-t', 'meta', '--label', 'extra=yes']);
  const image = await inspect('meta');
  t.is(image.Author, 'someone@example.com');
  t.deepEqual(image.Config.Labels, { 'org.example.name': 'nbox test', version: '1', extra: 'yes' });
  t.deepEqual(image.Config.ExposedPorts, { '80/tcp': {}, '443/udp': {} });
  t.deepEqual(image.Config.Volumes, { '/data': {} });
  t.is(image.Config.User, 'app');
  t.is(image.Config.StopSignal, 'SIGINT');
  t.deepEqual(image.Config.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost || exit 1'], Interval: 5_000_000_000, Retries: 2 });
  t.deepEqual(image.Config.Shell, ['/bin/sh', '-ec']);
  t.deepEqual(image.Config.Entrypoint, ['/bin/sh', '-ec', 'echo from-shell-entrypoint']);
  t.is(image.Config.Cmd, null);
  t.is(image.RootFS.Layers.length, 1, 'metadata adds no layer');
  t.is(await runImage(t, 'meta'), 'from-shell-entrypoint\n');
});

test('ONBUILD triggers run when a later build uses the image', async (t) => {
  await build(t, await writeContext(t, { Dockerfile: 'FROM bb\nONBUILD RUN echo triggered > /trigger\n' }), ['-t', 'parent-onbuild']);
  const child = await build(t, await writeContext(t, { Dockerfile: 'FROM parent-onbuild\nRUN cat /trigger\n' }), ['-t', 'child-onbuild']);
  t.regex(child.stdout, /# Executing 1 build trigger/);
  t.is(await runImage(t, 'child-onbuild', ['cat', '/trigger']), 'triggered\n');
  t.deepEqual((await inspect('child-onbuild')).Config.OnBuild, null);
});

test('history lists each step, newest first', async (t) => {
  await build(t, await writeContext(t, { Dockerfile: 'FROM bb\nRUN echo x > /x\nCMD ["sh"]\n' }), ['-t', 'hist']);
  const r = await cli(store.root, ['history', '--no-trunc', 'hist']);
  const rows = r.stdout.trim().split('\n');
  t.regex(rows[0], /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  t.regex(rows[1], /^sha256:[0-9a-f]{64}\s+.+ago\s+\/bin\/sh -c #\(nop\)\s+CMD \["sh"\]\s+0B/);
  t.regex(rows[2], /^sha256:[0-9a-f]{64}\s+.+ago\s+\/bin\/sh -c echo x > \/x\s+\d/);
  t.is(rows.length, 4);
});

test('killing a build mid-RUN leaves no process or temp dir, and the next build succeeds', async (t) => {
  const dir = await writeContext(t, { Dockerfile: 'FROM bb\nRUN echo started; sleep 313\n' });
  const child = spawnCli(store.root, ['build', dir]);
  await new Promise<void>((resolveStarted) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('started')) resolveStarted();
    });
  });
  child.kill('SIGKILL');
  await exitCodeOf(child);
  const { execFileSync } = await import('node:child_process');
  for (let i = 0; i < 100; i++) {
    if (!execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes('sleep 313')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.false(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes('sleep 313'));
  await writeFile(join(dir, 'Dockerfile'), 'FROM bb\nRUN echo done\n');
  await build(t, dir);
  t.deepEqual(await readdir(join(store.root, 'tmp')), []);
});

test('build -t=name tags name, as Docker reads a short option with "="', async (t) => {
  const dir = await writeContext(t, { Dockerfile: 'FROM bb\nLABEL shortopt=1\n' });
  const r = await build(t, dir, ['-t=shortopt:1']);
  t.regex(r.stdout, /Successfully tagged shortopt:1\n$/);
  t.is((await inspect('shortopt:1')).Config.Labels.shortopt, '1');
});
