// Attacks a hostile Dockerfile or build context makes on the host through a
// build, each of which must fail: host directories lent by symlinks a step
// planted in a cache mount, host files removed through a symlink where a mount
// stub was, context files swapped for symlinks while being copied, a
// Dockerfile or .dockerignore that is a symlink to a host file, and variable
// expansions that would grow without bound. Also two image defects: an image
// holding one layer twice, and WORKDIR making its directory.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, renameSync, statSync, symlinkSync, watch } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import tar from 'tar-stream';

import { cli, rootTest, sharedTestStore, writeContext } from '../helpers/env';
import { buildSteps } from '../helpers/build';

const test = rootTest();
const store = sharedTestStore(test);
const { build, buildFails, run } = buildSteps(store);

// hostDir makes a host directory the attacks aim at, removed after the test.
async function hostDir(t: { teardown(fn: () => Promise<void>): void }, files: Record<string, string> = {}, dirs: string[] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-host-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  for (const name of dirs) await mkdir(join(dir, name));
  return dir;
}

test('a cache mount source= through a symlink a step planted stays inside the cache', async (t) => {
  const host = await hostDir(t);
  const plant = await writeContext(t, {
    Dockerfile: `FROM bb\nRUN --mount=type=cache,id=planted,target=/c ln -s ${host} /c/x && ln -s ../../in /c/rel && mkdir /c/in\n`,
  });
  await build(t, ['--no-cache', plant]);
  // source=x names the host directory; resolved inside the cache it is a missing path, which is refused.
  for (const source of ['x', 'x/new']) {
    const use = await writeContext(t, { Dockerfile: `FROM bb\nRUN --mount=type=cache,id=planted,target=/c,source=${source} echo pwned > /c/written\n` });
    await buildFails(t, ['--no-cache', use], new RegExp(`^nbox: Dockerfile:2: cache mount source "${source}": cannot be made inside the cache$`, 'm'));
  }
  t.deepEqual(readdirSync(host), []);
  // A link that stays inside the cache is followed there.
  const inside = await writeContext(t, {
    Dockerfile: 'FROM bb\nRUN --mount=type=cache,id=planted,target=/c,source=rel/sub echo kept > /c/f\nRUN --mount=type=cache,id=planted,target=/c cat /c/in/sub/f > /seen\n',
  });
  await build(t, ['--no-cache', '-t', 'cache-inside', inside]);
  t.is(await run(t, 'cache-inside', 'cat /seen'), 'kept\n');
  t.deepEqual(readdirSync(host), []);
});

test('mount stubs are not removed through a symlink the step put in their place', async (t) => {
  for (const kind of ['file', 'dir']) {
    const host = await hostDir(t, kind === 'file' ? { y: '' } : {}, kind === 'dir' ? ['y'] : []);
    const dir = await writeContext(t, {
      Dockerfile: `FROM bb\nRUN --mount=type=tmpfs,target=/x/y mv /x /x.old && ln -s ${host} /x\n`,
    });
    await build(t, ['--no-cache', '-t', `stub-${kind}`, dir]);
    t.true(existsSync(join(host, 'y')), `the host's empty ${kind} y is still there`);
    t.is(statSync(join(host, 'y')).isDirectory(), kind === 'dir');
    // The step's own result stays as it made it.
    t.is(await run(t, `stub-${kind}`, 'readlink /x; ls -A /x.old'), `${host}\ny\n`);
  }
});

test('RUN binds of the context resolve symlinks inside it: a link to /etc shows the context, never the host', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: [
      'FROM bb',
      'RUN --mount=type=bind,source=link,target=/l ls /l > /ro',
      'RUN --mount=type=bind,source=link,target=/l,rw ls /l > /rw && echo scribble > /l/new',
      '',
    ].join('\n'),
    'etc/marker': 'context\n',
  });
  symlinkSync('/etc', join(dir, 'link'));
  await build(t, ['-t', 'bind-inroot', dir]);
  t.is(await run(t, 'bind-inroot', 'cat /ro /rw'), 'marker\nmarker\n');
  t.false(existsSync(join(dir, 'etc/new')), 'a rw bind writes to a copy');
});

test('a context directory named through a symlink is the directory it leads to', async (t) => {
  const dir = await writeContext(t, { Dockerfile: 'FROM bb\nCOPY . /x\n', 'f.txt': 'f\n' });
  const link = `${dir}-link`;
  symlinkSync(dir, link);
  t.teardown(() => rm(link, { force: true }));
  await build(t, ['--no-cache', '-t', 'context-link', link]);
  t.is(await run(t, 'context-link', 'cat /x/f.txt; test -L /x || echo directory'), 'f\ndirectory\n');
});

test('a read-only RUN bind of the context shows what .dockerignore leaves, never an excluded file', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: 'FROM bb\nRUN --mount=type=bind,target=/ctx ls -A /ctx > /seen; cat /ctx/.env > /leak 2>&1; touch /ctx/new 2>/dev/null || echo read-only > /ro\n',
    '.dockerignore': '.env\n',
    '.env': 'SECRET=1\n',
    'kept.txt': 'kept\n',
  });
  await build(t, ['--no-cache', '-t', 'bind-ignored', dir]);
  t.is(await run(t, 'bind-ignored', 'cat /seen /ro; grep -c SECRET /leak; true'), '.dockerignore\nDockerfile\nkept.txt\nread-only\n0\n');
});

test('a context file swapped for a symlink to a host file after planning is not copied from the host', async (t) => {
  const host = await hostDir(t, { secret: 'HOST SECRET\n'.repeat(200_000) });
  // Enough small files that the copy yields to the event loop before the large file.
  const files: Record<string, string> = { Dockerfile: 'FROM bb\nCOPY . /ctx/\n', big: 'c'.repeat(2 << 20) };
  for (let i = 0; i < 300; i++) files[`small/${i}`] = `${i}\n`;
  const dir = await writeContext(t, files);
  symlinkSync(join(host, 'secret'), join(dir, 'swap'));
  // The attacker swaps the file once the step's layer is being written: after the plan saw a regular file.
  let swapped = false;
  const watcher = watch(join(store.root, 'tmp'), (_event, name) => {
    if (swapped || !String(name).endsWith('-layer')) return;
    swapped = true;
    renameSync(join(dir, 'swap'), join(dir, 'big'));
  });
  t.teardown(() => watcher.close());
  const error = await t.throwsAsync(store.nbox.build({ context: dir, tags: ['swapped'], noCache: true }));
  t.true(swapped);
  t.regex(error!.message, /big changed while the build was reading it: it is not the file the step planned/);
  t.false((await store.nbox.images()).some((image) => image.tags.includes('swapped:latest')));
});

test('a tar context whose Dockerfile or .dockerignore is a symlink to a host file never reads the host file', async (t) => {
  const host = await hostDir(t, { shadow: 'root:$6$hostsecret:19000:0:99999:7:::\n', ignore: 'a.txt\n' });
  const ctx = await writeContext(t, { 'a.txt': 'a\n', 'real/Dockerfile': 'FROM bb\nCOPY . /ctx/\n' });
  symlinkSync(join(host, 'shadow'), join(ctx, 'Dockerfile'));
  const tarball = join(await hostDir(t), 'ctx.tar');
  execFileSync('tar', ['-C', ctx, '-cf', tarball, '.']);
  const r = await cli(store.root, ['build', tarball]);
  t.is(r.code, 1);
  t.is(r.stderr, 'nbox: unable to prepare context: cannot find Dockerfile: Dockerfile\n');
  t.notRegex(r.stdout + r.stderr, /hostsecret/);
  // Links are followed inside the context: an absolute one to /real/Dockerfile is the context's own.
  // The .dockerignore pointing at the host's ignore file is missing inside the context, so a.txt is copied.
  await rm(join(ctx, 'Dockerfile'));
  symlinkSync('/real/Dockerfile', join(ctx, 'Dockerfile'));
  symlinkSync(join(host, 'ignore'), join(ctx, '.dockerignore'));
  execFileSync('tar', ['-C', ctx, '-cf', tarball, '.']);
  await build(t, ['-t', 'tar-links', tarball]);
  t.is(await run(t, 'tar-links', 'cat /ctx/a.txt'), 'a\n');
});

test('-f naming a context file that is a symlink to a host file, as a path from the current directory, never reads the host file', async (t) => {
  const host = await hostDir(t, { shadow: 'root:$6$hostsecret:19000:0:99999:7:::\n' });
  const ctx = await writeContext(t, { 'real/Dockerfile': 'FROM bb\nRUN echo inside > /seen\n' });
  symlinkSync(join(host, 'shadow'), join(ctx, 'Dockerfile'));
  symlinkSync(host, join(ctx, 'sub'));
  for (const [file, cwd] of [['Dockerfile', ctx], [join(ctx, 'Dockerfile'), '/'], ['sub/shadow', ctx]]) {
    const r = await cli(store.root, ['build', '-f', file, cwd === ctx ? '.' : ctx], { cwd });
    t.is(r.code, 1, file);
    t.regex(r.stderr, /^nbox: unable to prepare context: cannot find Dockerfile: .*\n$/);
    t.notRegex(r.stdout + r.stderr, /hostsecret/);
  }
  // Inside the context, links resolve in it: /real/Dockerfile is the context's own.
  await rm(join(ctx, 'Dockerfile'));
  symlinkSync('/real/Dockerfile', join(ctx, 'Dockerfile'));
  const built = await cli(store.root, ['build', '-q', '-t', 'f-link', '-f', 'Dockerfile', '.'], { cwd: ctx });
  t.is(built.code, 0, built.stderr);
  t.is(await run(t, 'f-link', 'cat /seen'), 'inside\n');
});

test('-f with an archive context names a file of the archive, not of the current directory', async (t) => {
  const ctx = await writeContext(t, { 'dev.Dockerfile': 'FROM bb\nRUN echo archive > /seen\n' });
  const tarball = join(await hostDir(t), 'ctx.tar');
  execFileSync('tar', ['-C', ctx, '-cf', tarball, '.']);
  const cwd = await hostDir(t, { 'dev.Dockerfile': 'FROM bb\nRUN echo host > /seen\n' });
  for (const context of [tarball, '-']) {
    const stdin = context === '-' ? openSync(tarball, 'r') : 'pipe';
    const r = await cli(store.root, ['build', '-q', '-t', 'f-archive', '-f', 'dev.Dockerfile', context], { cwd, stdio: [stdin, 'pipe', 'pipe'] })
      .finally(() => typeof stdin === 'number' && closeSync(stdin));
    t.is(r.code, 0, r.stderr);
    t.is(await run(t, 'f-archive', 'cat /seen'), 'archive\n');
  }
});

test('ADD --checksum of a context file swapped with a symlink to a host file never hashes the host file, and fails at its line', async (t) => {
  const secret = 'HOST SECRET\n';
  const host = await hostDir(t, { secret });
  const dir = await writeContext(t, { Dockerfile: `FROM bb\nADD --checksum=sha256:${'0'.repeat(64)} a /a\n`, a: 'context file\n' });
  symlinkSync(join(host, 'secret'), join(dir, 'b'));
  // The attacker keeps swapping the two names while the build plans and hashes.
  const racer = spawn(process.execPath, ['-e', 'const fs = require("fs"); for (;;) { fs.renameSync("a", "t"); fs.renameSync("b", "a"); fs.renameSync("t", "b"); }'], { cwd: dir, stdio: 'ignore' });
  t.teardown(() => racer.kill('SIGKILL'));
  const hostDigest = createHash('sha256').update(secret).digest('hex');
  const messages = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const error = await t.throwsAsync(store.nbox.build({ context: dir, noCache: true }));
    messages.add(error!.message.replace(/[0-9a-f]{64}/g, (hex) => (hex === hostDigest ? 'HOST-DIGEST' : 'digest')));
  }
  t.false([...messages].some((message) => message.includes('HOST-DIGEST')), [...messages].join('\n'));
  // However the race fell, the build failed at its line.
  t.true([...messages].every((message) => message.startsWith('Dockerfile:2: ')), [...messages].join('\n'));
});

test('ADD of two archives: a symlink the first leaves is replaced by the second, never written or linked through', async (t) => {
  const host = await hostDir(t, { secret: 'host secret\n' });
  const dir = await mkdtemp(join(tmpdir(), 'nbox-archives-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // a.tar: x and y link to the host directory (a ../ chain, and absolute); b.tar: a file beneath each.
  await mkdir(join(dir, 'a'));
  symlinkSync(`${'../'.repeat(12)}${host.slice(1)}`, join(dir, 'a', 'x'));
  symlinkSync(host, join(dir, 'a', 'y'));
  execFileSync('tar', ['-C', join(dir, 'a'), '-cf', join(dir, 'a.tar'), 'x', 'y']);
  await mkdir(join(dir, 'b', 'x'), { recursive: true });
  await mkdir(join(dir, 'b', 'y'));
  await writeFile(join(dir, 'b', 'x', 'pwned'), 'x\n');
  await writeFile(join(dir, 'b', 'y', 'pwned'), 'y\n');
  // Members alone, no directory entries: tar replaces a symlink where a directory entry comes.
  execFileSync('tar', ['-C', join(dir, 'b'), '-cf', join(dir, 'b.tar'), 'x/pwned', 'y/pwned']);
  const context = await writeContext(t, { Dockerfile: 'FROM bb\nADD a.tar b.tar /d/\n' });
  for (const name of ['a.tar', 'b.tar']) renameSync(join(dir, name), join(context, name));
  await build(t, ['--no-cache', '-t', 'two-archives', context]);
  t.deepEqual(readdirSync(host), ['secret']);
  t.is(await run(t, 'two-archives', 'cat /d/x/pwned /d/y/pwned'), 'x\ny\n');
  // A hard link to a name beneath the first archive's symlink: in an archive of its own, its target is missing
  // (the build fails); the host file never gains a link.
  const hard = await writeContext(t, { Dockerfile: 'FROM bb\nADD a.tar l.tar /d/\n' });
  execFileSync('tar', ['-C', join(dir, 'a'), '-cf', join(hard, 'a.tar'), 'x']);
  const pack = tar.pack();
  pack.entry({ name: 'h', type: 'link', linkname: 'x/secret' });
  pack.finalize();
  await writeFile(join(hard, 'l.tar'), await buffer(pack));
  await cli(store.root, ['build', '--no-cache', '-t', 'two-archives-link', hard]);
  t.is(statSync(join(host, 'secret')).nlink, 1);
  t.deepEqual(readdirSync(host), ['secret']);
});

test('nested ARG expansions that would grow without bound fail on one line', async (t) => {
  // 8 characters, 64, 512, …: the seventh line would be 2 MiB, the tenth 1 GiB, the sixteenth 256 TiB.
  const names = 'ABCDEFGHIJKLMNOP'.split('');
  const args = ['ARG A=xxxxxxxx', ...names.slice(1).map((name, i) => `ARG ${name}=${`$${names[i]}`.repeat(8)}`)];
  const global = await writeContext(t, { Dockerfile: [...args, 'FROM bb', 'RUN true', ''].join('\n') });
  await buildFails(t, [global], /^nbox: Dockerfile:7: variable expansion too long: a word may expand to at most 1048576 characters$/m);
  // In a stage, the ARG steps before the long one are built (as the classic builder keeps them) and the build fails there.
  const staged = await writeContext(t, { Dockerfile: ['FROM bb', ...args, 'RUN true', ''].join('\n') });
  const r = await cli(store.root, ['build', staged]);
  t.is(r.code, 1);
  t.is(r.stderr, 'nbox: Dockerfile:8: variable expansion too long: a word may expand to at most 1048576 characters\n');
});

test('an image holding one layer twice runs (two RUN true), and keeps both layers', async (t) => {
  const dir = await writeContext(t, { Dockerfile: 'FROM bb\nRUN true\nRUN true\n' });
  await build(t, ['-t', 'twice', dir]);
  t.is(await run(t, 'twice', 'echo ran'), 'ran\n');
  const layers = (await store.nbox.inspectImage('twice')).RootFS.Layers;
  t.is(layers[layers.length - 1], layers[layers.length - 2]);
  const on = await writeContext(t, { Dockerfile: 'FROM twice\nRUN echo built > /on\n' });
  await build(t, ['-t', 'on-twice', on]);
  t.is(await run(t, 'on-twice', 'cat /on'), 'built\n');
});

test('WORKDIR makes its directory (owned by USER, symlinks followed in the image), so COPY lands inside it', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: [
      'FROM bb',
      'WORKDIR /d',
      'COPY f /d',
      'RUN ln -s /real /link',
      'USER app',
      'WORKDIR /link/x/y',
      'WORKDIR /tmp',
      'USER root',
      'WORKDIR /unused',
      '',
    ].join('\n'),
    f: 'f\n',
  });
  await build(t, ['-t', 'workdirs', dir]);
  t.is(await run(t, 'workdirs', 'cat /d/f; stat -c "%n %u:%g %a" /real /real/x /real/x/y /tmp /unused'),
    'f\n/real 1000:1000 755\n/real/x 1000:1000 755\n/real/x/y 1000:1000 755\n/tmp 0:0 1777\n/unused 0:0 755\n');
  // A WORKDIR that exists adds no layer; one that is made adds one.
  const history = await store.nbox.history('workdirs');
  const workdirs = history.filter((h) => /WORKDIR/.test(h.createdBy)).map((h) => [h.createdBy.replace(/.*WORKDIR /, ''), h.size > 0]);
  t.deepEqual(workdirs.reverse(), [['/d', true], ['/link/x/y', true], ['/tmp', false], ['/unused', true]]);
  const file = await writeContext(t, { Dockerfile: 'FROM bb\nWORKDIR /etc/passwd/sub\n' });
  await buildFails(t, [file], /^nbox: Dockerfile:2: WORKDIR \/etc\/passwd\/sub: \/etc\/passwd is not a directory$/m);
});
