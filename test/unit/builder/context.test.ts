import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openContext } from '../../../src/builder/context';
import { makeTree, tempDir } from './helpers';

test('a directory is used in place, with its Dockerfile and .dockerignore', async (t) => {
  const root = await tempDir(t);
  const dir = await makeTree(join(root, 'ctx'), { Dockerfile: 'FROM scratch\n', '.dockerignore': '*.log\n', 'a.log': 'x' });
  const context = await openContext({ path: dir, tmpDir: root });
  t.is(context.dir, dir);
  t.is(context.dockerfileText, 'FROM scratch\n');
  t.is(context.dockerfilePath, join(dir, 'Dockerfile'));
  t.true(context.ignore.excludes('a.log'));
  await context.close();
  t.true(existsSync(dir));
});

test('<Dockerfile>.dockerignore beside a -f Dockerfile outside the context wins', async (t) => {
  const root = await tempDir(t);
  const dir = await makeTree(join(root, 'ctx'), { '.dockerignore': 'root-rule\n' });
  await makeTree(join(root, 'files'), { 'build.Dockerfile': 'FROM x\n', 'build.Dockerfile.dockerignore': 'specific-rule\n' });
  const context = await openContext({ path: dir, dockerfile: join(root, 'files/build.Dockerfile'), tmpDir: root });
  t.is(context.dockerfileText, 'FROM x\n');
  t.true(context.ignore.excludes('specific-rule'));
  t.false(context.ignore.excludes('root-rule'));
  const relative = await openContext({ path: dir, dockerfile: '../files/build.Dockerfile', tmpDir: root });
  t.is(relative.dockerfilePath, join(root, 'files/build.Dockerfile'));
});

test('a lowercase dockerfile is found when Dockerfile is absent', async (t) => {
  const root = await tempDir(t);
  const dir = await makeTree(join(root, 'ctx'), { dockerfile: 'FROM lower\n' });
  t.is((await openContext({ path: dir, tmpDir: root })).dockerfileText, 'FROM lower\n');
});

test('a missing Dockerfile or context is reported', async (t) => {
  const root = await tempDir(t);
  const dir = await makeTree(join(root, 'ctx'), { other: 'x' });
  await t.throwsAsync(openContext({ path: dir, tmpDir: root }), { message: 'unable to prepare context: cannot find Dockerfile: Dockerfile' });
  await t.throwsAsync(openContext({ path: dir, dockerfile: 'Nope', tmpDir: root }), { message: 'unable to prepare context: cannot find Dockerfile: Nope' });
  await t.throwsAsync(openContext({ path: join(root, 'absent'), tmpDir: root }), { message: /unable to prepare context: path ".*absent" not found/ });
});

test('a gzipped tarball is extracted into tmpDir and removed by close', async (t) => {
  const root = await tempDir(t);
  const source = await makeTree(join(root, 'src'), { Dockerfile: 'FROM tar\n', 'sub/f': 'f' });
  execFileSync('tar', ['-C', source, '-czf', join(root, 'ctx.tgz'), '.']);
  const tmpDir = join(root, 'tmp');
  await mkdir(tmpDir);
  const context = await openContext({ path: join(root, 'ctx.tgz'), tmpDir });
  t.is(context.dockerfileText, 'FROM tar\n');
  t.true(existsSync(join(context.dir, 'sub/f')));
  await context.close();
  t.deepEqual(readdirSync(tmpDir), []);
});

test('stdin: a plain tar is the context', async (t) => {
  const root = await tempDir(t);
  const source = await makeTree(join(root, 'src'), { Dockerfile: 'FROM stdin\n' });
  execFileSync('tar', ['-C', source, '-cf', join(root, 'ctx.tar'), '.']);
  const context = await openContext({ path: '-', stdin: createReadStream(join(root, 'ctx.tar')), tmpDir: root });
  t.is(context.dockerfileText, 'FROM stdin\n');
  await context.close();
});

test('stdin: anything else is a Dockerfile with an empty context', async (t) => {
  const root = await tempDir(t);
  const context = await openContext({ tarStream: Readable.from([Buffer.from('FROM busybox\nRUN true\n')]), tmpDir: root });
  t.is(context.dockerfileText, 'FROM busybox\nRUN true\n');
  t.is(context.dockerfilePath, '-');
  t.deepEqual(readdirSync(context.dir), []);
  await context.close();
});

test('-f - reads the Dockerfile from stdin next to a directory context', async (t) => {
  const root = await tempDir(t);
  const dir = await makeTree(join(root, 'ctx'), { f: 'x' });
  const context = await openContext({ path: dir, dockerfile: '-', stdin: Readable.from([Buffer.from('FROM piped\n')]), tmpDir: root });
  t.is(context.dockerfileText, 'FROM piped\n');
});

test('a file that is not an archive is not a context', async (t) => {
  const root = await tempDir(t);
  await makeTree(root, { 'notes.txt': 'hello' });
  await t.throwsAsync(openContext({ path: join(root, 'notes.txt'), tmpDir: root }), { message: /context must be a directory or a tar archive/ });
  t.deepEqual(readdirSync(root).filter((name) => name.startsWith('context-')), []);
});
