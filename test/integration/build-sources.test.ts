// Where a build reads from besides its context directory: RUN --mount from a
// stage or image, COPY --parents and --link, ADD --checksum / --unpack / git
// sources, and build contexts that are git repositories or URLs. Everything
// remote is local: git repositories made in a temp dir, http on 127.0.0.1.
import type { ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type RequestListener } from 'node:http';
import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { cli, exitCodeOf, fileScope, rootTest, sharedTestStore, spawnCli, writeContext, type Teardown } from '../helpers/env';
import { buildSteps } from '../helpers/build';

const test = rootTest();
const store = sharedTestStore(test);
const steps = buildSteps(store);
const { build, buildFails, run } = steps;
const shared = fileScope(test);




const leftovers = () => steps.leftovers(['mounts', 'add', 'cache-seed', 'context']);

async function serve(t: Teardown, handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  t.teardown(() => new Promise<void>((closed) => server.close(() => closed())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// closedPort is a loopback port nothing listens on.
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((closed) => server.close(() => closed()));
  return port;
}

// gitRepo makes a bare repository from files: branch main (two commits), tag v1 on the first; returns its path and commits.
async function gitRepo(t: Teardown, first: Record<string, string>, second: Record<string, string>) {
  const root = await mkdtemp(join(tmpdir(), 'nbox-git-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const work = join(root, 'work');
  const git = (...args: string[]) => execFileSync('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim();
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  const commit = async (files: Record<string, string>, message: string) => {
    for (const [path, content] of Object.entries(files)) {
      execFileSync('mkdir', ['-p', join(work, path, '..')]);
      await writeFile(join(work, path), content);
    }
    git('add', '-A');
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  const v1 = await commit(first, 'first');
  git('tag', 'v1');
  const head = await commit(second, 'second');
  const bare = join(root, 'repo.git');
  execFileSync('git', ['clone', '-q', '--bare', work, bare]);
  return { bare, url: `file://${bare}`, v1, head };
}

// gitDaemon serves repo over git:// on 127.0.0.1 (a Dockerfile may not name a file:// repository) until teardown.
async function gitDaemon(t: Teardown, repo: { bare: string }): Promise<string> {
  const port = await closedPort();
  const base = join(repo.bare, '..');
  const daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, base], { stdio: 'ignore' });
  t.teardown(async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill();
      await once(daemon, 'exit');
    }
  });
  for (let tries = 0; ; tries++) {
    const connected = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1', () => done(true)).once('error', () => done(false));
      socket.once('connect', () => socket.destroy());
    });
    if (connected) break;
    if (tries > 200) throw new Error('git daemon did not listen');
    await sleep(25);
  }
  return `git://127.0.0.1:${port}/${basename(repo.bare)}`;
}

test('RUN --mount=type=bind,from= a stage (read-only, rw, a file) and an image; type=cache,from= seeds a cache', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: [
      'FROM bb AS tools',
      'RUN mkdir -p /opt/tool && echo one > /opt/tool/a && echo two > /opt/tool/b',
      'RUN rm /opt/tool/b && echo three > /opt/tool/c && chmod 700 /opt/tool',
      'FROM bb',
      'RUN --mount=type=bind,from=tools,source=/opt/tool,target=/mnt/tool ls /mnt/tool > /listing && cat /mnt/tool/a >> /listing && ' +
        'stat -c %a /mnt/tool >> /listing && (touch /mnt/tool/x 2>/dev/null && echo writable || echo read-only) >> /listing',
      'RUN --mount=type=bind,from=tools,source=/opt/tool,target=/mnt/tool,rw echo changed > /mnt/tool/a && cat /mnt/tool/a > /rw-seen',
      'RUN --mount=type=bind,from=tools,source=opt/tool/a,target=/one.txt cat /one.txt > /file-seen',
      'RUN --mount=type=bind,from=bb,target=/bbroot head -1 /bbroot/etc/passwd > /image-seen',
      'ARG AGAIN',
      'RUN --mount=type=cache,from=tools,source=/opt/tool,target=/cache cat /cache/c > /cache-seen && echo more >> /cache/c',
      '',
    ].join('\n'),
  });
  await build(t, ['-t', 'mount-from', dir]);
  t.is(await run(t, 'mount-from', 'cat /listing /rw-seen /file-seen /image-seen /cache-seen; ls /mnt /one.txt /bbroot /cache 2>&1 | grep -c "No such"'),
    'a\nc\none\n700\nread-only\nchanged\none\nroot:x:0:0:root:/root:/bin/sh\nthree\n4\n');
  // The stage's own files are untouched by the rw bind and by the read-only view's links.
  await build(t, ['-q', '-t', 'mount-tools', '--target', 'tools', dir]);
  t.is(await run(t, 'mount-tools', 'cat /opt/tool/a; stat -c "%h %a" /opt/tool/a'), 'one\n1 644\n');
  // The cache seeded from the (unchanged) stage persists across builds, like any cache mount.
  await build(t, ['-q', '-t', 'mount-from', '--build-arg', 'AGAIN=1', dir]);
  t.is(await run(t, 'mount-from', 'cat /cache-seen'), 'three\nmore\n');
  t.deepEqual(await leftovers(), []);
});

test('a RUN --mount from a stage is cached on that stage: a changed stage reruns the step', async (t) => {
  const dockerfile = (word: string) => `FROM bb AS src\nRUN echo ${word} > /word\nFROM bb\nRUN --mount=type=bind,from=src,target=/src cp /src/word /copied\n`;
  const dir = await writeContext(t, { Dockerfile: dockerfile('first') });
  await build(t, ['-t', 'mount-key', dir]);
  const cached = await build(t, ['-t', 'mount-key', dir]);
  t.is(cached.stdout.match(/Using cache/g)?.length, 2);
  await writeFile(join(dir, 'Dockerfile'), dockerfile('second'));
  await build(t, ['-t', 'mount-key', dir]);
  t.is(await run(t, 'mount-key', 'cat /copied'), 'second\n');
});

test('RUN --mount from= naming nothing, or a missing source, fails cleanly', async (t) => {
  const nothing = await writeContext(t, { Dockerfile: 'FROM bb\nRUN --mount=type=bind,from=nothing,target=/x true\n' });
  await buildFails(t, [nothing], /^nbox: Dockerfile:2: invalid mount from value nothing: no stage or image of that name/);
  const missing = await writeContext(t, { Dockerfile: 'FROM bb AS s\nFROM bb\nRUN --mount=type=bind,from=s,source=/nope,target=/x true\n' });
  await buildFails(t, [missing], /Dockerfile:3: "\/nope" not found in mount from=s/);
  t.deepEqual(await leftovers(), []);
});

test('a build killed during a RUN with a stage mounted leaves nothing behind, and the next build works', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: 'FROM bb AS s\nRUN echo x > /x\nFROM bb\nRUN --mount=type=bind,from=s,target=/s sleep 30\n',
  });
  const child = spawnCli(store.root, ['build', dir]);
  child.stdout!.resume();
  child.stderr!.resume();
  for (let waited = 0; !(await readdir(join(store.root, 'tmp'))).some((name) => name.endsWith('-mounts')); waited += 50) {
    if (waited > 20_000) t.fail('the RUN step never started');
    await sleep(50);
  }
  child.kill('SIGKILL');
  await exitCodeOf(child);
  // Opening the store sweeps what the killed build left; no mount was ever made on the host.
  await cli(store.root, ['images']);
  t.deepEqual(await leftovers(), []);
  t.false((await readFile('/proc/self/mountinfo', 'utf8')).includes(store.root));
  await writeFile(join(dir, 'Dockerfile'), 'FROM bb AS s\nRUN echo x > /x\nFROM bb\nRUN --mount=type=bind,from=s,target=/s cp /s/x /x\n');
  await build(t, ['-t', 'after-kill', dir]);
  t.is(await run(t, 'after-kill', 'cat /x'), 'x\n');
});

test('COPY --parents keeps parent directories (with /./ pivots, ** and --exclude); COPY --link copies', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: [
      'FROM bb',
      'COPY --parents x/a.txt y/a.txt /p1/',
      'COPY --parents ./x/./sub/deep.txt /p2/',
      'COPY --parents **/*.txt /p3/',
      'COPY --parents --exclude=**/deep.txt x /p4',
      'COPY --link x/a.txt /linked/',
      'COPY --link --chmod=600 y /linked-dir',
      '',
    ].join('\n'),
    'x/a.txt': 'xa\n',
    'x/sub/deep.txt': 'deep\n',
    'y/a.txt': 'ya\n',
    'z/skip.md': 'no\n',
  });
  await chmod(join(dir, 'x'), 0o750);
  await build(t, ['-t', 'parents', dir]);
  const out = await run(t, 'parents', 'cd /p1 && find . | sort; stat -c %a /p1/x; cd /p2 && find . | sort; cd /p3 && find . -type f | sort; cd /p4 && find . | sort; ls -l /linked /linked-dir | grep -c "^-"; cat /linked/a.txt');
  t.is(out, [
    '.', './x', './x/a.txt', './y', './y/a.txt', '750',
    '.', './sub', './sub/deep.txt',
    './x/a.txt', './x/sub/deep.txt', './y/a.txt',
    '.', './x', './x/a.txt', './x/sub',
    '2', 'xa', '',
  ].join('\n'));
  await buildFails(t, [await writeContext(t, { Dockerfile: 'FROM bb\nCOPY --parents x/missing.txt /d/\n' })], /Dockerfile:2: COPY failed: file not found in build context/);
});

const sha = (bytes: string | Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

// The ADD --checksum/--unpack tests share one server and one image, made by whichever runs first.
let addsBuilt: Promise<string> | undefined;
function buildAdds(t: ExecutionContext): Promise<string> {
  addsBuilt ??= (async () => {
    const payload = await writeContext(shared, { 'inner.txt': 'inside\n' });
    const tgz = execFileSync('tar', ['-C', payload, '-czf', '-', 'inner.txt']);
    const base = await serve(shared, (req, res) => {
      if (req.url === '/file.txt') res.end('remote\n');
      else if (req.url === '/bundle.tgz') res.end(tgz);
      else res.writeHead(404).end();
    });
    const dir = await writeContext(shared, {
    Dockerfile: [
      'FROM bb',
      `ADD --checksum=${sha('remote\n')} ${base}/file.txt /checked/`,
      `ADD --checksum=${sha('local\n')} local.txt /checked/`,
      `ADD --unpack=true ${base}/bundle.tgz /unpacked/`,
      `ADD ${base}/bundle.tgz /kept/`,
      'ADD --unpack=false bundle.tgz /local-kept/',
      'ADD bundle.tgz /local-unpacked/',
      '',
    ].join('\n'),
    'local.txt': 'local\n',
    });
    await writeFile(join(dir, 'bundle.tgz'), tgz);
    await build(t, ['-t', 'checksums', dir]);
    return base;
  })();
  return addsBuilt;
}

test('ADD --checksum verifies a URL and a local file that match', async (t) => {
  await buildAdds(t);
  t.is(await run(t, 'checksums', 'cat /checked/file.txt /checked/local.txt'), 'remote\nlocal\n');
});

test('ADD --unpack=true extracts a download, which ADD otherwise keeps', async (t) => {
  await buildAdds(t);
  t.is(await run(t, 'checksums', 'cat /unpacked/inner.txt; ls /kept'), 'inside\nbundle.tgz\n');
});

test('ADD --unpack=false keeps a local archive, which ADD otherwise extracts', async (t) => {
  await buildAdds(t);
  t.is(await run(t, 'checksums', 'ls /local-kept; ls /local-unpacked'), 'bundle.tgz\ninner.txt\n');
});

test('ADD --checksum mismatches (URL, local file) and a malformed digest fail at their line, leaving nothing', async (t) => {
  const base = await buildAdds(t);
  const wrong = sha('something else');
  await buildFails(t, [await writeContext(t, { Dockerfile: `FROM bb\nADD --checksum=${wrong} ${base}/file.txt /f\n` })],
    new RegExp(`Dockerfile:2: checksum mismatch for ${base}/file.txt: expected ${wrong}, got ${sha('remote\n')}`));
  await buildFails(t, [await writeContext(t, { Dockerfile: `FROM bb\nADD --checksum=${wrong} local.txt /f\n`, 'local.txt': 'local\n' })],
    /Dockerfile:2: checksum mismatch for local.txt/);
  await buildFails(t, [await writeContext(t, { Dockerfile: `FROM bb\nADD --checksum=sha256:abc ${base}/file.txt /f\n` })], /invalid checksum digest format/);
  t.deepEqual(await leftovers(), []);
});

test('ADD of a URL that answers 404 or refuses the connection fails at its line, leaving nothing', async (t) => {
  const base = await buildAdds(t);
  await buildFails(t, [await writeContext(t, { Dockerfile: `FROM bb\nADD ${base}/missing /f\n` })], /Dockerfile:2: ADD failed: .*invalid response status 404/);
  const closed = await closedPort();
  await buildFails(t, [await writeContext(t, { Dockerfile: `FROM bb\nADD http://127.0.0.1:${closed}/x /f\n` })], /Dockerfile:2: ADD failed: http:\/\/127.0.0.1:\d+\/x: .*ECONNREFUSED/);
  t.deepEqual(await leftovers(), []);
});

// bigDownloads serves SIZE bytes at /big, and at /cut the first half, then a reset connection.
const SIZE = 256 << 20;
function bigDownloads(t: Teardown): Promise<string> {
  const chunk = Buffer.alloc(1 << 20, 7);
  return serve(t, (req, res) => {
    res.writeHead(200, { 'content-length': SIZE });
    let sent = 0;
    const pump = () => {
      for (; sent < SIZE; sent += chunk.length) {
        if (req.url === '/cut' && sent >= SIZE / 2) return void res.destroy();
        if (!res.write(chunk)) return void res.once('drain', () => ((sent += chunk.length), pump()));
      }
      res.end();
    };
    pump();
  });
}

test('ADD of a large download streams it to a file: the builder holds far less than its size; one cut short fails at its line, leaving nothing', async (t) => {
  const base = await bigDownloads(t);
  // The library in a process of its own, whose peak memory is the build's.
  const script = `
    const { Nbox } = require(${JSON.stringify(join(__dirname, '../../src/api.js'))});
    Nbox.open({ root: ${JSON.stringify(store.root)} })
      .then((nbox) => nbox.build({ dockerfile: 'FROM bb\\nADD ${base}/big /big\\n', tags: ['big-download'] }))
      .then(() => console.log(process.resourceUsage().maxRSS * 1024), (err) => { console.error(err.message); process.exitCode = 1; });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  t.is(await exitCodeOf(child), 0);
  t.true(Number(out) < SIZE * 0.6, `peak RSS ${Number(out) >> 20} MiB for a ${SIZE >> 20} MiB download`);
  t.is(await run(t, 'big-download', 'stat -c "%s %a" /big'), `${SIZE} 600\n`);
  t.is((await cli(store.root, ['rmi', 'big-download'])).code, 0);
  await buildFails(t, [await writeContext(t, { Dockerfile: `FROM bb\nADD ${base}/cut /f\n` })], new RegExp(`Dockerfile:2: ADD failed: ${base}/cut: `));
  t.deepEqual(await leftovers(), []);
});

test('ADD of a URL whose name is longer than a file name can be, to a file path', async (t) => {
  const long = `${'%E4%B8%AD'.repeat(30)}.txt`;
  const base = await serve(t, (req, res) => (req.url === `/${long}` ? res.end('data\n') : res.writeHead(404).end()));
  await build(t, ['-t', 'long-url', await writeContext(t, { Dockerfile: `FROM bb\nADD ${base}/${long} /dst.txt\n` })]);
  t.is(await run(t, 'long-url', 'cat /dst.txt'), 'data\n');
  t.is((await cli(store.root, ['rmi', 'long-url'])).code, 0);
});

type GitRepo = Awaited<ReturnType<typeof gitRepo>>;
type ServedRepo = GitRepo & { served: string };

// The ADD-of-git tests share one repository and one image, made by whichever runs first.
let gitAddBuilt: Promise<ServedRepo> | undefined;
function buildGitAdd(t: ExecutionContext): Promise<ServedRepo> {
  gitAddBuilt ??= (async () => {
    const made = await gitRepo(shared, { 'README': 'v1\n', 'sub/tool.sh': 'echo tool v1\n' }, { 'README': 'v2\n', 'sub/tool.sh': 'echo tool v2\n' });
    const repo = { ...made, served: await gitDaemon(shared, made) };
    const dir = await writeContext(shared, {
      Dockerfile: [
        'FROM bb',
        `ADD ${repo.served} /head/`,
        `ADD ${repo.served}#v1:sub /tag-sub/`,
        `ADD --checksum=${repo.head.slice(0, 12)} ${repo.served}#main /checked`,
        `ADD ${repo.served}#${repo.v1.slice(0, 10)} /by-commit/`,
        `ADD --keep-git-dir=true ${repo.served}#main /with-git/`,
        '',
      ].join('\n'),
    });
    await build(t, ['-t', 'git-add', dir]);
    return repo;
  })();
  return gitAddBuilt;
}

test('ADD of a git repository copies its default branch, owned by root, without .git', async (t) => {
  await buildGitAdd(t);
  t.is(await run(t, 'git-add', 'ls -A /head; stat -c "%u:%g %a" /head/README'), 'README\nsub\n0:0 644\n');
});

test('ADD of a git repository #tag:subdir copies that subdir at that tag', async (t) => {
  await buildGitAdd(t);
  t.is(await run(t, 'git-add', 'cat /tag-sub/tool.sh'), 'echo tool v1\n');
});

test('ADD of a git repository with --checksum of its commit, and #an abbreviated commit', async (t) => {
  await buildGitAdd(t);
  t.is(await run(t, 'git-add', 'cat /checked/README /by-commit/README'), 'v2\nv1\n');
});

test('ADD --keep-git-dir=true keeps .git', async (t) => {
  await buildGitAdd(t);
  t.is(await run(t, 'git-add', 'ls -d /with-git/.git'), '/with-git/.git\n');
});

test('ADD of a git repository: an unknown ref, a wrong --checksum or a missing subdir fails at its line, leaving nothing', async (t) => {
  const repo = await buildGitAdd(t);
  await buildFails(t, [await writeContext(t, { Dockerfile: `FROM bb\nADD ${repo.served}#nope /x/\n` })],
    /Dockerfile:2: failed to fetch ref "nope" of git repository git:\/\/.*: couldn't find remote ref nope/);
  await buildFails(t, [await writeContext(t, { Dockerfile: `FROM bb\nADD --checksum=${repo.v1} ${repo.served}#main /x/\n` })],
    new RegExp(`Dockerfile:2: checksum mismatch for .*: expected commit ${repo.v1}, got ${repo.head}`));
  await buildFails(t, [await writeContext(t, { Dockerfile: `FROM bb\nADD ${repo.served}#main:nosuchdir /x/\n` })], /subdirectory "nosuchdir" not found/);
  t.deepEqual(await leftovers(), []);
});

test('ADD of a file:// URL never reads a repository on the host: it names no context file', async (t) => {
  const repo = await buildGitAdd(t);
  await buildFails(t, [await writeContext(t, { Dockerfile: `FROM bb\nADD ${repo.url} /x/\n` })], /^nbox: Dockerfile:2: ADD failed: file not found in build context .*: stat file:\/\/.*: file does not exist$/m);
  t.deepEqual(await leftovers(), []);
});

test("ADD of a git repository gets none of the caller's git setup: no credential helper asked, no GIT_DIR fetched into", async (t) => {
  const repo = await buildGitAdd(t);
  const home = await mkdtemp(join(tmpdir(), 'nbox-git-home-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  const asked = join(home, 'asked');
  await writeFile(join(home, '.gitconfig'), `[credential]\n\thelper = "!f() { echo asked > ${asked}; echo username=victim; echo password=hunter2; }; f"\n`);
  // The Dockerfile's server asks for credentials, as one collecting the caller's would.
  const authorizations: string[] = [];
  const base = await serve(t, (req, res) => {
    if (req.headers.authorization) authorizations.push(req.headers.authorization);
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
  });
  const env = { ...process.env, NBOX_ROOT: store.root, HOME: home };
  const asking = await writeContext(t, { Dockerfile: `FROM bb\nADD ${base}/private.git /src/\n` });
  const refused = await cli(store.root, ['build', '-q', asking], { env });
  t.is(refused.code, 1);
  t.regex(refused.stderr, /^nbox: Dockerfile:2: failed to fetch git repository http:.*could not read Username/);
  t.deepEqual(authorizations, []);
  t.false(existsSync(asked));

  // The caller's GIT_DIR names a repository of theirs: the build neither fetches into it nor checks out over it.
  const victim = join(home, 'victim');
  const git = (...args: string[]) => execFileSync('git', ['-C', victim, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim();
  execFileSync('git', ['init', '-q', '-b', 'main', victim]);
  await writeFile(join(victim, 'mine.txt'), 'mine\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'mine');
  const head = git('rev-parse', 'HEAD');
  const adding = await writeContext(t, { Dockerfile: `FROM bb\nADD ${repo.served} /src/\n` });
  const built = await cli(store.root, ['build', '-q', '-t', 'git-env', adding], { env: { ...env, GIT_DIR: join(victim, '.git'), GIT_WORK_TREE: victim } });
  t.is(built.code, 0, built.stderr);
  t.is(await run(t, 'git-env', 'cat /src/README'), 'v2\n');
  t.is(git('symbolic-ref', 'HEAD'), 'refs/heads/main');
  t.is(git('rev-parse', 'HEAD'), head);
  t.is(git('status', '--porcelain'), '');
  t.throws(() => git('cat-file', '-e', repo.head));
  t.is((await cli(store.root, ['rmi', 'git-env'])).code, 0);
});

// The git context tests share one repository, made by whichever runs first.
let contextRepo: Promise<GitRepo> | undefined;
function gitContextRepo(): Promise<GitRepo> {
  contextRepo ??= gitRepo(shared,
    { 'Dockerfile': 'FROM bb\nCOPY . /ctx/\n', 'hello.txt': 'v1\n' },
    { 'app/Dockerfile': 'FROM bb\nCOPY . /app/\nRUN cat /app/msg > /seen\n', 'app/msg': 'from subdir\n', 'app/.dockerignore': 'ignored\n', 'app/ignored': 'x', 'other.Dockerfile': 'FROM bb\nCOPY hello.txt /h\n' });
  return contextRepo;
}

test('build contexts from git: a file:// URL with #ref:subdir, its .dockerignore applied', async (t) => {
  const repo = await gitContextRepo();
  await build(t, ['-t', 'git-ctx', `${repo.url}#main:app`]);
  t.is(await run(t, 'git-ctx', 'cat /seen; ls -A /app'), 'from subdir\n.dockerignore\nDockerfile\nmsg\n');
});

test('build contexts from git: a local repository PATH#tag', async (t) => {
  const repo = await gitContextRepo();
  await build(t, ['-t', 'git-ctx-tag', `${repo.bare}#v1`]);
  t.is(await run(t, 'git-ctx-tag', 'ls -A /ctx; cat /ctx/hello.txt'), 'Dockerfile\nhello.txt\nv1\n');
});

test('build contexts from git: -f names a file of the remote context, not of the current directory', async (t) => {
  const repo = await gitContextRepo();
  await build(t, ['-t', 'git-ctx-f', '-f', 'other.Dockerfile', repo.url]);
  t.is(await run(t, 'git-ctx-f', 'cat /h'), 'v1\n');
});

test('build contexts from git: an unknown ref or a missing repository fails on one line, leaving nothing', async (t) => {
  const repo = await gitContextRepo();
  await buildFails(t, [`${repo.url}#no-such-branch`], /^nbox: unable to prepare context: failed to fetch ref "no-such-branch" of git repository/);
  await buildFails(t, [`file://${repo.bare}-missing`], /^nbox: unable to prepare context: failed to fetch git repository/);
  t.deepEqual(await leftovers(), []);
});

// The URL context tests share one server, started by whichever runs first.
let contextServer: Promise<string> | undefined;
function serveContexts(): Promise<string> {
  contextServer ??= (async () => {
    const ctx = await writeContext(shared, { Dockerfile: 'FROM bb\nCOPY data.txt /data.txt\n', 'data.txt': 'from tarball\n' });
    const tar = execFileSync('tar', ['-C', ctx, '-cf', '-', '.']);
    const tgz = execFileSync('gzip', ['-c'], { input: tar });
    return serve(shared, (req, res) => {
      if (req.url === '/ctx.tar.gz') res.end(tgz);
      else if (req.url === '/ctx.tar') res.end(tar);
      else if (req.url === '/Dockerfile') res.setHeader('Content-Type', 'text/plain').end('FROM bb\nRUN echo lone > /lone\n');
      else res.writeHead(404, 'Not Found').end();
    });
  })();
  return contextServer;
}

test('build contexts from a URL: a gzip tarball', async (t) => {
  await build(t, ['-t', 'url-gz', `${await serveContexts()}/ctx.tar.gz`]);
  t.is(await run(t, 'url-gz', 'cat /data.txt'), 'from tarball\n');
});

test('build contexts from a URL: a plain tarball', async (t) => {
  await build(t, ['-t', 'url-tar', `${await serveContexts()}/ctx.tar`]);
  t.is(await run(t, 'url-tar', 'cat /data.txt'), 'from tarball\n');
});

test('build contexts from a URL: a lone Dockerfile', async (t) => {
  await build(t, ['-t', 'url-dockerfile', `${await serveContexts()}/Dockerfile`]);
  t.is(await run(t, 'url-dockerfile', 'cat /lone'), 'lone\n');
});

test('build contexts from a URL: a missing or unreachable URL fails on one line, leaving nothing', async (t) => {
  const base = await serveContexts();
  await buildFails(t, [`${base}/missing.tar`], /^nbox: unable to prepare context: unable to download remote context http:\/\/127\.0\.0\.1:\d+\/missing\.tar: 404 Not Found/);
  await buildFails(t, [`http://127.0.0.1:${await closedPort()}/ctx.tar`], /^nbox: unable to prepare context: unable to download remote context http:\/\/127\.0\.0\.1:\d+\/ctx\.tar: .*ECONNREFUSED/);
  t.deepEqual(await leftovers(), []);
});
