import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { verifyFileChecksum } from '../../../src/builder/add-sources';
import { openContext } from '../../../src/builder/context';
import { planCopy } from '../../../src/builder/copy';
import { splitPivot } from '../../../src/builder/copy-parents';
import { ignoreMatcher, parseDockerignore } from '../../../src/builder/dockerignore';
import { fetchGit, isGitUrl, parseGitSource, redactUrl } from '../../../src/builder/git-source';
import { isRemoteContext } from '../../../src/builder/remote-context';
import { materializeRootfsPath } from '../../../src/builder/rootfs-view';
import { makeTree, tempDir } from './helpers';

test('isGitUrl: git@, git://, ssh://, file:// and http(s) URLs ending in .git, as Docker reads them', (t) => {
  for (const url of ['git@github.com:moby/moby.git', 'git://host/repo', 'ssh://git@host/repo', 'file:///srv/repo.git', 'https://host/r.git', 'http://host/r.git#main:dir']) {
    t.true(isGitUrl(url), url);
  }
  for (const url of ['https://host/ctx.tar.gz', 'http://host/repo', 'github.com/moby/moby', './repo.git', '/srv/repo.git', 'user@host']) {
    t.false(isGitUrl(url), url);
  }
  t.true(isRemoteContext('https://host/ctx.tar.gz'));
  t.false(isRemoteContext('ctx'));
});

test('parseGitSource splits #ref:subdir, each part optional', (t) => {
  t.deepEqual(parseGitSource('https://h/r.git'), { remote: 'https://h/r.git' });
  t.deepEqual(parseGitSource('https://h/r.git#v1'), { remote: 'https://h/r.git', ref: 'v1' });
  t.deepEqual(parseGitSource('git@h:o/r.git#main:docs/site'), { remote: 'git@h:o/r.git', ref: 'main', subdir: 'docs/site' });
  t.deepEqual(parseGitSource('file:///r.git#:sub'), { remote: 'file:///r.git', subdir: 'sub' });
  t.throws(() => parseGitSource('#main'), { message: /invalid git URL/ });
});

test('redactUrl hides passwords in URLs, wherever they appear', (t) => {
  t.is(redactUrl('https://me:s3cret@host/r.git'), 'https://me:xxxxx@host/r.git');
  t.is(redactUrl("repository 'https://me:tok@h/x.git/' not found"), "repository 'https://me:xxxxx@h/x.git/' not found");
  t.is(redactUrl('git@host:o/r.git'), 'git@host:o/r.git');
});

test('splitPivot: the part before /./ is dropped, the rest is kept', (t) => {
  t.deepEqual(splitPivot('x/a.txt'), { pivot: '/', pattern: 'x/a.txt' });
  t.deepEqual(splitPivot('./x/./y/*.txt'), { pivot: '/x', pattern: 'y/*.txt' });
  t.deepEqual(splitPivot('/a/b/./'), { pivot: '/a/b', pattern: '' });
  t.deepEqual(splitPivot('x/././y'), { pivot: '/x', pattern: 'y' });
});

test('COPY --parents plans kept paths with parents first, ** across directories, --exclude below the pivot', async (t) => {
  const root = await tempDir(t);
  const context = await makeTree(join(root, 'ctx'), {
    'a/b/c.txt': 'c', 'a/b/d.md': 'd', 'a/e.txt': 'e', 'f.txt': 'f', 'skip/g.txt': 'g', 'a/link': { link: 'b' },
  });
  const paths = async (sources: string[], exclude: string[] = [], dockerignore = '') => {
    const plan = await planCopy({
      sources, dest: '/out', workdir: '/', isAdd: false, parents: true, exclude,
      from: { kind: 'context', dir: context, ignore: ignoreMatcher(parseDockerignore(dockerignore)) },
    }, []);
    return plan.entries.map((entry) => entry.path).filter((path) => path.startsWith('/out/'));
  };
  t.deepEqual(await paths(['a/b/c.txt']), ['/out/a', '/out/a/b', '/out/a/b/c.txt']);
  t.deepEqual(await paths(['./a/./b']), ['/out/b', '/out/b/c.txt', '/out/b/d.md']);
  t.deepEqual(await paths(['**/*.txt'], [], 'skip\n'), ['/out/a', '/out/a/b', '/out/a/b/c.txt', '/out/a/e.txt', '/out/f.txt']);
  t.deepEqual(await paths(['a'], ['**/*.md', 'a/link']), ['/out/a', '/out/a/b', '/out/a/b/c.txt', '/out/a/e.txt']);
  t.deepEqual(await paths(['a/link']), ['/out/a', '/out/a/link']);
  t.deepEqual(await paths(['nothing*']), []);
  await t.throwsAsync(paths(['a/missing']), { message: /file not found in build context/ });
});

test('verifyFileChecksum accepts the right digest and names both on a mismatch', async (t) => {
  const root = await tempDir(t);
  await makeTree(root, { 'f': 'data' });
  const good = `sha256:${createHash('sha256').update('data').digest('hex')}`;
  await verifyFileChecksum(good, join(root, 'f'), 'f');
  const bad = `sha256:${'0'.repeat(64)}`;
  await t.throwsAsync(verifyFileChecksum(bad, join(root, 'f'), 'f'), { message: `checksum mismatch for f: expected ${bad}, got ${good}` });
  await t.throwsAsync(verifyFileChecksum('md5:abc', join(root, 'f'), 'f'), { message: /invalid checksum digest format/ });
});

// bareRepo makes a bare repository with two commits on main and tag v1 on the first.
function bareRepo(root: string): { url: string; path: string; v1: string; head: string } {
  const work = join(root, 'work');
  const git = (...args: string[]) => execFileSync('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim();
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  execFileSync('mkdir', ['-p', join(work, 'sub')]);
  execFileSync('sh', ['-c', `echo v1 > ${work}/sub/f && echo 'FROM scratch' > ${work}/Dockerfile && ln -s / ${work}/up`]);
  git('add', '-A');
  git('commit', '-q', '-m', 'one');
  const v1 = git('rev-parse', 'HEAD');
  git('tag', 'v1');
  execFileSync('sh', ['-c', `echo v2 > ${work}/sub/f`]);
  git('commit', '-q', '-am', 'two');
  const head = git('rev-parse', 'HEAD');
  const path = join(root, 'repo.git');
  execFileSync('git', ['clone', '-q', '--bare', work, path]);
  return { url: `file://${path}`, path, v1, head };
}

test('fetchGit checks out a branch, tag or abbreviated commit with its subdir, without .git unless kept', async (t) => {
  const root = await tempDir(t);
  const repo = bareRepo(root);
  const head = await fetchGit({ remote: repo.url }, join(root, 'head'));
  t.is(head.commit, repo.head);
  t.deepEqual(readdirSync(head.dir).sort(), ['Dockerfile', 'sub', 'up']);
  const tag = await fetchGit({ remote: repo.url, ref: 'v1', subdir: 'sub' }, join(root, 'tag'));
  t.is(readFileSync(join(tag.dir, 'f'), 'utf8'), 'v1\n');
  const short = await fetchGit({ remote: repo.url, ref: repo.v1.slice(0, 8) }, join(root, 'short'), { keepGitDir: true });
  t.is(short.commit, repo.v1);
  t.true(existsSync(join(short.dir, '.git')));
  await t.throwsAsync(fetchGit({ remote: repo.url, ref: 'nope' }, join(root, 'nope')), { message: /failed to fetch ref "nope" of git repository file:.*: couldn't find remote ref nope/ });
  await t.throwsAsync(fetchGit({ remote: repo.url, ref: 'abcdef12' }, join(root, 'nosha')), { message: /unknown git ref "abcdef12"/ });
  // A symlink must not lead the context out of the checkout.
  await t.throwsAsync(fetchGit({ remote: repo.url, subdir: 'up' }, join(root, 'escape')), { message: /subdirectory "up" not found/ });
});

async function serveOnce(t: ExecutionContext, body: Buffer | string): Promise<string> {
  const server = createServer((req, res) => (req.url === '/ctx' ? res.end(body) : res.writeHead(404).end()));
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// leftContexts lists what openContext fetched into root and did not remove.
const leftContexts = (root: string) => readdirSync(root).filter((name) => name.startsWith('context-'));

test('openContext of a git URL whose subdir has no Dockerfile fails', async (t) => {
  const root = await tempDir(t);
  const repo = bareRepo(root);
  await t.throwsAsync(openContext({ path: `${repo.url}#v1:sub`, tmpDir: root }), { message: /cannot find Dockerfile/ });
  t.deepEqual(leftContexts(root), []);
});

test('openContext of a local repository PATH#ref checks out the ref; close removes it', async (t) => {
  const root = await tempDir(t);
  const repo = bareRepo(root);
  const git = await openContext({ path: `${repo.path}#main`, tmpDir: root });
  t.is(git.dockerfileText, 'FROM scratch\n');
  t.is(readFileSync(join(git.dir, 'sub/f'), 'utf8'), 'v2\n');
  await git.close();
  t.false(existsSync(git.dir));
  t.deepEqual(leftContexts(root), []);
});

test('openContext of an http tarball unpacks it; close removes it', async (t) => {
  const root = await tempDir(t);
  const ctx = await makeTree(join(root, 'tarctx'), { Dockerfile: 'FROM x\n', 'data': 'd' });
  const base = await serveOnce(t, execFileSync('tar', ['-C', ctx, '-czf', '-', '.']));
  const tarball = await openContext({ path: `${base}/ctx`, tmpDir: root });
  t.is(tarball.dockerfileText, 'FROM x\n');
  t.is(readFileSync(join(tarball.dir, 'data'), 'utf8'), 'd');
  await tarball.close();
  t.deepEqual(leftContexts(root), []);
});

test('openContext of an http Dockerfile gives it with an empty context; close removes it', async (t) => {
  const root = await tempDir(t);
  const lone = await openContext({ path: `${await serveOnce(t, 'FROM lone\n')}/ctx`, tmpDir: root });
  t.is(lone.dockerfileText, 'FROM lone\n');
  t.deepEqual(readdirSync(lone.dir), []);
  await lone.close();
  t.deepEqual(leftContexts(root), []);
});

test('openContext of an http URL that answers 404 fails, leaving nothing', async (t) => {
  const root = await tempDir(t);
  const base = await serveOnce(t, 'FROM x\n');
  await t.throwsAsync(openContext({ path: `${base}/other`, tmpDir: root }), { message: /unable to download remote context .*: 404/ });
  t.deepEqual(leftContexts(root), []);
});

test('materializeRootfsPath: a read-only view links the layers\' files, a writable one copies them; whiteouts hide', async (t) => {
  const root = await tempDir(t);
  const lower = await makeTree(join(root, 'lower'), { 'opt/a': { content: 'a', mode: 0o640 }, 'opt/gone': 'g' });
  const upper = await makeTree(join(root, 'upper'), { 'opt/b': 'b', 'opt/gone': { whiteout: true } });
  const view = await materializeRootfsPath([upper, lower], '/opt', join(root, 'ro'), { writable: false, shown: 'stage s' });
  t.deepEqual(view, { hostPath: join(root, 'ro'), isFile: false });
  t.deepEqual(readdirSync(view.hostPath), ['a', 'b']);
  t.is(statSync(join(view.hostPath, 'a')).ino, statSync(join(lower, 'opt/a')).ino);
  t.is(statSync(join(lower, 'opt/a')).mode & 0o7777, 0o640);
  const copy = await materializeRootfsPath([upper, lower], 'opt/a', join(root, 'rw'), { writable: true, shown: 'stage s' });
  t.deepEqual(copy, { hostPath: join(root, 'rw/a'), isFile: true });
  t.not(statSync(copy.hostPath).ino, statSync(join(lower, 'opt/a')).ino);
  await t.throwsAsync(materializeRootfsPath([upper, lower], '/opt/gone', join(root, 'gone'), { writable: false, shown: 'stage s' }), { message: '"/opt/gone" not found in stage s' });
});
