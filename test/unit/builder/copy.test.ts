import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { chmod, chown, link, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyCopy, copyDigest, planCopy, resolveChown, type CopyRequest } from '../../../src/builder/copy';
import { ignoreMatcher, parseDockerignore } from '../../../src/builder/dockerignore';
import { addon } from '../../../src/sys/addon';
import { isRoot, makeTree, tempDir, type Node } from './helpers';

const asRoot = isRoot ? test : test.skip;

interface Setup {
  context?: Record<string, Node>;
  dockerignore?: string;
  base?: Record<string, Node>[];
}

// copyInto builds a context and base layers, runs COPY/ADD into a fresh layer and returns the layer dir.
async function copyInto(t: ExecutionContext, setup: Setup, req: Partial<CopyRequest> & { sources: string[]; dest: string }): Promise<string> {
  const { layer, request, baseLayers } = await prepare(t, setup, req);
  await applyCopy(await planCopy(request, baseLayers), layer);
  return layer;
}

async function prepare(t: ExecutionContext, setup: Setup, req: Partial<CopyRequest> & { sources: string[]; dest: string }) {
  const root = await tempDir(t);
  const context = await makeTree(join(root, 'context'), setup.context ?? {});
  const baseLayers: string[] = [];
  for (const [at, nodes] of (setup.base ?? []).entries()) baseLayers.push(await makeTree(join(root, `base${at}`), nodes));
  const layer = join(root, 'layer');
  await mkdir(layer);
  const request: CopyRequest = {
    workdir: '/',
    from: { kind: 'context', dir: context, ignore: ignoreMatcher(parseDockerignore(setup.dockerignore ?? '')) },
    isAdd: false,
    ...req,
  };
  return { root, context, layer, request, baseLayers };
}

function tree(dir: string): string[] {
  const found: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const stats = lstatSync(join(dir, path));
      found.push(stats.isDirectory() ? `${path}/` : stats.isSymbolicLink() ? `${path} -> ${readlinkSync(join(dir, path))}` : path);
      if (stats.isDirectory()) walk(path);
    }
  };
  walk('');
  return found;
}

const mode = (path: string) => lstatSync(path).mode & 0o7777;

test('a source directory copies its contents, hidden files included', async (t) => {
  const layer = await copyInto(t, { context: { 'src/a.txt': 'a', 'src/.hidden': 'h', 'src/sub/b.txt': 'b' } }, { sources: ['src'], dest: '/app' });
  t.deepEqual(tree(layer), ['app/', 'app/.hidden', 'app/a.txt', 'app/sub/', 'app/sub/b.txt']);
});

test('a file goes to dest/basename when dest ends in /, else becomes dest', async (t) => {
  const context = { 'f.txt': 'data' };
  t.deepEqual(tree(await copyInto(t, { context }, { sources: ['f.txt'], dest: '/d/' })), ['d/', 'd/f.txt']);
  t.deepEqual(tree(await copyInto(t, { context }, { sources: ['f.txt'], dest: '/d' })), ['d']);
  t.is(readFileSync(join(await copyInto(t, { context }, { sources: ['f.txt'], dest: '/d' }), 'd'), 'utf8'), 'data');
});

test('an existing directory of the base receives the file inside, without a trailing slash', async (t) => {
  const layer = await copyInto(t, { context: { 'f.txt': 'x' }, base: [{ 'opt/': { dir: true } }] }, { sources: ['f.txt'], dest: '/opt' });
  t.deepEqual(tree(layer), ['opt/', 'opt/f.txt']);
});

test('a relative dest joins the workdir; . is the workdir itself', async (t) => {
  const context = { 'f.txt': 'x' };
  t.deepEqual(tree(await copyInto(t, { context }, { sources: ['f.txt'], dest: 'sub/', workdir: '/w' })), ['w/', 'w/sub/', 'w/sub/f.txt']);
  t.deepEqual(tree(await copyInto(t, { context }, { sources: ['f.txt'], dest: '.', workdir: '/w' })), ['w/', 'w/f.txt']);
});

test('several sources need a directory destination', async (t) => {
  const context = { 'a': 'a', 'b': 'b' };
  const { request, baseLayers } = await prepare(t, { context }, { sources: ['a', 'b'], dest: '/d' });
  await t.throwsAsync(planCopy(request, baseLayers), { message: 'When using COPY with more than one source file, the destination must be a directory and end with a /' });
  t.deepEqual(tree(await copyInto(t, { context }, { sources: ['a', 'b'], dest: '/d/' })), ['d/', 'd/a', 'd/b']);
  t.deepEqual(tree(await copyInto(t, { context }, { sources: ['*'], dest: '/d/' })), ['d/', 'd/a', 'd/b']);
});

test('wildcards match per name and a matched directory copies its contents', async (t) => {
  const context = { 'a.txt': 'a', 'b.md': 'b', 'dir1/x': 'x', 'dir2/y': 'y', 'dir1/sub/z.txt': 'z' };
  t.deepEqual(tree(await copyInto(t, { context }, { sources: ['*.txt'], dest: '/d/' })), ['d/', 'd/a.txt']);
  t.deepEqual(tree(await copyInto(t, { context }, { sources: ['dir?'], dest: '/d/' })), ['d/', 'd/sub/', 'd/sub/z.txt', 'd/x', 'd/y']);
  t.deepEqual(tree(await copyInto(t, { context }, { sources: ['dir*/sub/*.txt'], dest: '/d/' })), ['d/', 'd/z.txt']);
  // An unmatched wildcard copies nothing, as BuildKit allows.
  t.deepEqual(tree(await copyInto(t, { context }, { sources: ['*.none'], dest: '/d/' })), []);
});

test('a missing source is reported in Docker words', async (t) => {
  const { request, baseLayers } = await prepare(t, {}, { sources: ['missing.txt'], dest: '/' });
  await t.throwsAsync(planCopy(request, baseLayers), {
    message: 'COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist',
  });
  const add = await prepare(t, {}, { sources: ['missing.txt'], dest: '/', isAdd: true });
  await t.throwsAsync(planCopy(add.request, add.baseLayers), { message: /^ADD failed: file not found/ });
});

test('.dockerignore: an excluded source does not exist, excluded entries are skipped, exceptions re-include', async (t) => {
  const setup: Setup = {
    context: { 'secret.txt': 's', 'app/keep.js': 'k', 'app/debug.log': 'l', 'logs/a.log': 'a', 'logs/keep.log': 'k' },
    dockerignore: 'secret.txt\n**/*.log\n!logs/keep.log\n',
  };
  const { request, baseLayers } = await prepare(t, setup, { sources: ['secret.txt'], dest: '/' });
  await t.throwsAsync(planCopy(request, baseLayers), { message: /file not found in build context or excluded by \.dockerignore: stat secret\.txt/ });
  t.deepEqual(tree(await copyInto(t, setup, { sources: ['.'], dest: '/c/' })), ['c/', 'c/app/', 'c/app/keep.js', 'c/logs/', 'c/logs/keep.log']);
});

test('.dockerignore: an excluded directory appears only for what an exception re-includes', async (t) => {
  const setup: Setup = { context: { 'secret/keep': 'k', 'secret/drop': 'd', 'other/x': 'x' }, dockerignore: 'secret\nother\n!secret/keep\n' };
  t.deepEqual(tree(await copyInto(t, setup, { sources: ['.'], dest: '/c/' })), ['c/', 'c/secret/', 'c/secret/keep']);
});

test('--exclude leaves out matching entries below each source', async (t) => {
  const context = { 'src/a.js': 'a', 'src/a.test.js': 't', 'src/lib/b.test.js': 't', 'x.txt': 'x', 'y.md': 'y' };
  t.deepEqual(tree(await copyInto(t, { context }, { sources: ['src'], dest: '/s/', exclude: ['**/*.test.js'] })), ['s/', 's/a.js', 's/lib/']);
  t.deepEqual(tree(await copyInto(t, { context }, { sources: ['*.txt', '*.md'], dest: '/d/', exclude: ['*.md'] })), ['d/', 'd/x.txt']);
});

test('missing parents are created 0755; an existing base parent keeps its mode and mtime', async (t) => {
  const base: Record<string, Node>[] = [{ 'opt/': { dir: true, mode: 0o750, mtime: 1_000_000 } }];
  const layer = await copyInto(t, { context: { f: 'x' }, base }, { sources: ['f'], dest: '/opt/new/deep/f' });
  t.is(mode(join(layer, 'opt')), 0o750);
  t.is(statSync(join(layer, 'opt')).mtimeMs, 1_000_000_000);
  t.is(mode(join(layer, 'opt/new')), 0o755);
  t.is(mode(join(layer, 'opt/new/deep')), 0o755);
});

test('modes and mtimes of copied entries are preserved', async (t) => {
  const setup: Setup = { context: { 'd/': { dir: true, mode: 0o711 }, 'd/run.sh': { content: '#!/bin/sh', mode: 0o750, mtime: 3_000_000 } } };
  const { context, layer, request, baseLayers } = await prepare(t, setup, { sources: ['.'], dest: '/' });
  await utimes(join(context, 'd'), 2_000_000, 2_000_000);
  await applyCopy(await planCopy(request, baseLayers), layer);
  t.is(mode(join(layer, 'd')), 0o711);
  t.is(mode(join(layer, 'd/run.sh')), 0o750);
  t.is(statSync(join(layer, 'd/run.sh')).mtimeMs, 3_000_000_000);
  t.is(statSync(join(layer, 'd')).mtimeMs, 2_000_000_000);
});

test('--chmod applies to files and directories; symbolic X only to dirs and executables', async (t) => {
  const context: Record<string, Node> = { 'd/f': { content: 'f', mode: 0o600 }, 'd/x': { content: 'x', mode: 0o700 } };
  const octal = await copyInto(t, { context }, { sources: ['.'], dest: '/', chmod: '0604' });
  t.is(mode(join(octal, 'd')), 0o604);
  t.is(mode(join(octal, 'd/f')), 0o604);
  const symbolic = await copyInto(t, { context }, { sources: ['.'], dest: '/', chmod: 'u=rwX,go=rX' });
  t.is(mode(join(symbolic, 'd')), 0o755);
  t.is(mode(join(symbolic, 'd/f')), 0o644);
  t.is(mode(join(symbolic, 'd/x')), 0o755);
  const { request, baseLayers } = await prepare(t, { context }, { sources: ['.'], dest: '/', chmod: 'bogus' });
  await t.throwsAsync(planCopy(request, baseLayers), { message: /invalid chmod parameter: 'bogus'/ });
});

test('a top-level source symlink is followed inside the context; inner symlinks are copied as links', async (t) => {
  const context: Record<string, Node> = {
    'real.txt': 'real',
    'link.txt': { link: 'real.txt' },
    'abs.txt': { link: '/real.txt' },
    'escape.txt': { link: '../../../../../etc/hostname' },
    'dir/inner': { link: '/nowhere' },
  };
  const layer = await copyInto(t, { context }, { sources: ['link.txt', 'abs.txt', 'dir'], dest: '/d/' });
  t.is(readFileSync(join(layer, 'd/link.txt'), 'utf8'), 'real');
  t.true(lstatSync(join(layer, 'd/abs.txt')).isFile());
  t.is(readlinkSync(join(layer, 'd/inner')), '/nowhere');
  const { request, baseLayers } = await prepare(t, { context }, { sources: ['escape.txt'], dest: '/' });
  await t.throwsAsync(planCopy(request, baseLayers), { message: /file not found in build context/ });
});

test('sources with .. are clamped to the context root', async (t) => {
  const layer = await copyInto(t, { context: { 'f.txt': 'in context' } }, { sources: ['../../f.txt'], dest: '/f' });
  t.is(readFileSync(join(layer, 'f'), 'utf8'), 'in context');
});

test('hardlinks within one copied tree stay hardlinks', async (t) => {
  const { context, layer, request, baseLayers } = await prepare(t, { context: { 'd/a': 'same' } }, { sources: ['d'], dest: '/d/' });
  await link(join(context, 'd/a'), join(context, 'd/b'));
  await applyCopy(await planCopy(request, baseLayers), layer);
  t.is(statSync(join(layer, 'd/a')).ino, statSync(join(layer, 'd/b')).ino);
});

test('the destination follows symlinks of the base image, inside its root', async (t) => {
  const base: Record<string, Node>[] = [{ 'app': { link: '/opt/app' }, 'opt/app/': { dir: true }, 'etc': { link: '../../../../tmp/nbox-etc' } }];
  const layer = await copyInto(t, { context: { f: 'x' }, base }, { sources: ['f'], dest: '/app/' });
  t.deepEqual(tree(layer), ['opt/', 'opt/app/', 'opt/app/f']);
  // A link pointing above the root stays in it: nothing is written to the host's /etc.
  const clamped = await copyInto(t, { context: { f: 'x' }, base }, { sources: ['f'], dest: '/etc/nbox-test-file' });
  t.deepEqual(tree(clamped), ['tmp/', 'tmp/nbox-etc/', 'tmp/nbox-etc/nbox-test-file']);
  t.false(existsSync('/tmp/nbox-etc'));
});

test('a file never replaces a directory of the base, nor a directory a base file', async (t) => {
  const base: Record<string, Node>[] = [{ 'd/f/': { dir: true }, 'd/g': 'file' }];
  const fileOverDir = await prepare(t, { context: { 'src/f': 'x' }, base }, { sources: ['src'], dest: '/d' });
  await t.throwsAsync(planCopy(fileOverDir.request, fileOverDir.baseLayers), { message: 'cannot replace to directory /d/f with file' });
  const dirOverFile = await prepare(t, { context: { 'src/g/x': 'x' }, base }, { sources: ['src'], dest: '/d' });
  await t.throwsAsync(planCopy(dirOverFile.request, dirOverFile.baseLayers), { message: 'cannot copy to non-directory: /d/g' });
});

test('COPY <<EOF heredocs are files of their own', async (t) => {
  const layer = await copyInto(t, {}, { sources: ['hello', 'world'], dest: '/h/', heredocs: [{ name: 'hello', content: 'hi\n' }, { name: 'world', content: 'w\n' }] });
  t.is(readFileSync(join(layer, 'h/hello'), 'utf8'), 'hi\n');
  t.is(mode(join(layer, 'h/world')), 0o644);
});

test('ADD extracts local tar archives by content; COPY and fake archives copy verbatim', async (t) => {
  const root = await tempDir(t);
  await makeTree(join(root, 'payload'), { 'top/a.txt': 'a' });
  const { context } = await prepare(t, { context: { 'fake.tar.gz': 'not an archive' } }, { sources: [], dest: '/' });
  execFileSync('tar', ['-C', join(root, 'payload'), '-czf', join(context, 'renamed.bin'), 'top']);
  const request = (isAdd: boolean, sources: string[]): CopyRequest => ({ sources, dest: '/x/', workdir: '/', isAdd, from: { kind: 'context', dir: context, ignore: ignoreMatcher([]) } });

  const added = join(root, 'added');
  await mkdir(added);
  await applyCopy(await planCopy(request(true, ['renamed.bin', 'fake.tar.gz']), []), added);
  t.deepEqual(tree(added), ['x/', 'x/fake.tar.gz', 'x/top/', 'x/top/a.txt']);

  const copied = join(root, 'copied');
  await mkdir(copied);
  await applyCopy(await planCopy(request(false, ['renamed.bin']), []), copied);
  t.deepEqual(tree(copied), ['x/', 'x/renamed.bin']);
});

test('copyDigest ignores mtimes but not modes or content', async (t) => {
  const { context, request, baseLayers } = await prepare(t, { context: { 'd/a': 'a', 'd/b': 'b' } }, { sources: ['d'], dest: '/d/' });
  const digest = async () => copyDigest(await planCopy(request, baseLayers));
  const first = await digest();
  t.regex(first, /^sha256:[0-9a-f]{64}$/);
  await utimes(join(context, 'd/a'), 12345, 12345);
  t.is(await digest(), first);
  await chmod(join(context, 'd/a'), 0o600);
  const chmodded = await digest();
  t.not(chmodded, first);
  await writeFile(join(context, 'd/b'), 'B');
  t.not(await digest(), chmodded);
});

test('copyDigest depends on --chown and the destination', async (t) => {
  const setup: Setup = { context: { f: 'x' } };
  const digestOf = async (req: Partial<CopyRequest>) => {
    const { request, baseLayers } = await prepare(t, setup, { sources: ['f'], dest: '/f', ...req });
    return copyDigest(await planCopy(request, baseLayers));
  };
  const plain = await digestOf({});
  t.not(await digestOf({ chown: '1000' }), plain);
  t.not(await digestOf({ dest: '/g' }), plain);
  t.is(await digestOf({}), plain);
});

test('resolveChown follows Docker: name -> uid and primary gid, N -> N:N, groups by name', (t) => {
  const passwd = 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n';
  const group = 'root:x:0:\nstaff:x:50:\napp:x:1001:\n';
  t.deepEqual(resolveChown('app', passwd, group), { uid: 1000, gid: 1001 });
  t.deepEqual(resolveChown('1000', passwd, group), { uid: 1000, gid: 1000 });
  t.deepEqual(resolveChown('42', null, null), { uid: 42, gid: 42 });
  t.deepEqual(resolveChown('app:staff', passwd, group), { uid: 1000, gid: 50 });
  t.deepEqual(resolveChown('7:8', null, null), { uid: 7, gid: 8 });
  t.deepEqual(resolveChown('app:8', passwd, group), { uid: 1000, gid: 8 });
  t.throws(() => resolveChown('', passwd, group), { message: /invalid chown string/ });
  t.throws(() => resolveChown(':', passwd, group), { message: /invalid chown string/ });
  t.throws(() => resolveChown('nobody', passwd, group), { message: /can't find uid for user nobody: no such user: nobody/ });
  t.throws(() => resolveChown('app:nogroup', passwd, group), { message: /can't find gid for group nogroup: no such group: nogroup/ });
});

asRoot('context files are 0:0 unless --chown, which also owns created dirs', async (t) => {
  const { context, layer, request, baseLayers } = await prepare(t, { context: { 'f': 'x' } }, { sources: ['f'], dest: '/new/f' });
  await chown(join(context, 'f'), 1234, 1234);
  await applyCopy(await planCopy(request, baseLayers), layer);
  t.like(lstatSync(join(layer, 'new/f')), { uid: 0, gid: 0 });

  const base: Record<string, Node>[] = [{ 'etc/passwd': 'app:x:1000:1001::/home/app:/bin/sh\n', 'etc/group': 'app:x:1001:\n' }];
  const owned = await copyInto(t, { context: { 'd/f': 'x' }, base }, { sources: ['d'], dest: '/new/', chown: 'app' });
  for (const path of ['new', 'new/f']) t.like(lstatSync(join(owned, path)), { uid: 1000, gid: 1001 }, path);
});

asRoot('--from a rootfs keeps owners, xattrs and special files; overlay markers stay behind', async (t) => {
  const { root, layer, request, baseLayers } = await prepare(t, {}, { sources: ['/srv'], dest: '/copy/' });
  const stage = await makeTree(join(root, 'stage'), { 'srv/bin': { content: 'elf', mode: 0o755 }, 'srv/pipe': { fifo: true }, 'srv/sub/': { dir: true } });
  await chown(join(stage, 'srv/bin'), 1000, 2000);
  addon().lsetxattr(join(stage, 'srv/bin'), 'user.nbox', Buffer.from('kept'));
  addon().lsetxattr(join(stage, 'srv/sub'), 'trusted.overlay.opaque', Buffer.from('y'));
  execFileSync('mknod', [join(stage, 'srv/null'), 'c', '1', '3']);
  await applyCopy(await planCopy({ ...request, from: { kind: 'rootfs', layers: [stage] } }, baseLayers), layer);
  t.like(lstatSync(join(layer, 'copy/bin')), { uid: 1000, gid: 2000 });
  t.is(addon().lgetxattr(join(layer, 'copy/bin'), 'user.nbox')?.toString(), 'kept');
  t.is(addon().lgetxattr(join(layer, 'copy/sub'), 'trusted.overlay.opaque'), null);
  t.true(lstatSync(join(layer, 'copy/pipe')).isFIFO());
  t.is(lstatSync(join(layer, 'copy/null')).rdev, lstatSync('/dev/null').rdev);
});

asRoot('a rootfs source is read through whiteouts and opaque dirs of its layers', async (t) => {
  const { root, layer, request } = await prepare(t, {}, { sources: ['/srv'], dest: '/copy/' });
  const lower = await makeTree(join(root, 'lower'), { 'srv/old': 'old', 'srv/deleted': 'd', 'srv/hidden/x': 'x' });
  const upper = await makeTree(join(root, 'upper'), { 'srv/deleted': { whiteout: true }, 'srv/hidden/': { dir: true }, 'srv/new': 'new' });
  addon().lsetxattr(join(upper, 'srv/hidden'), 'trusted.overlay.opaque', Buffer.from('y'));
  await applyCopy(await planCopy({ ...request, from: { kind: 'rootfs', layers: [upper, lower] } }, []), layer);
  t.deepEqual(tree(layer), ['copy/', 'copy/hidden/', 'copy/new', 'copy/old']);
});

asRoot('an existing base parent keeps its owner in the layer', async (t) => {
  const { root, context, layer, request } = await prepare(t, { context: { f: 'x' } }, { sources: ['f'], dest: '/home/app/f' });
  const base = await makeTree(join(root, 'b'), { 'home/app/': { dir: true, mode: 0o700 } });
  await chown(join(base, 'home/app'), 1000, 1000);
  t.truthy(context);
  await applyCopy(await planCopy(request, [base]), layer);
  t.like(lstatSync(join(layer, 'home/app')), { uid: 1000, gid: 1000 });
  t.is(mode(join(layer, 'home/app')), 0o700);
});

test.serial('20,000 small files copy quickly', async (t) => {
  const root = await tempDir(t);
  const context = join(root, 'context');
  for (let dir = 0; dir < 100; dir++) {
    await mkdir(join(context, `d${dir}`), { recursive: true });
    await Promise.all(Array.from({ length: 200 }, (_, file) => writeFile(join(context, `d${dir}`, `f${file}.txt`), `file ${dir}/${file}\n`)));
  }
  const layer = join(root, 'layer');
  await mkdir(layer);
  const request: CopyRequest = { sources: ['.'], dest: '/data/', workdir: '/', isAdd: false, from: { kind: 'context', dir: context, ignore: ignoreMatcher([]) } };
  const started = process.hrtime.bigint();
  const plan = await planCopy(request, []);
  const planned = process.hrtime.bigint();
  await copyDigest(plan);
  const digested = process.hrtime.bigint();
  await applyCopy(plan, layer);
  const applied = process.hrtime.bigint();
  const ms = (from: bigint, to: bigint) => Number((to - from) / 1_000_000n);
  t.log(`20,000 files: plan ${ms(started, planned)} ms, digest ${ms(planned, digested)} ms, apply ${ms(digested, applied)} ms, total ${ms(started, applied)} ms`);
  t.is(readdirSync(join(layer, 'data/d99')).length, 200);
});
