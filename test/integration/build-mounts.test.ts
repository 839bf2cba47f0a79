// RUN --mount=type=ssh (an ssh-agent forwarded with --ssh) and the cache key
// of binds from the build context (the content they show, after .dockerignore).
// The agent is Debian's openssh-client ssh-agent; the RUN talks to it with the
// host's ssh-add, run through its own loader from a bind of the context.
import type { ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { cli, optionalTest, rootTest, sharedTestStore, writeContext } from '../helpers/env';
import { buildSteps } from '../helpers/build';

const test = rootTest();
const store = sharedTestStore(test);
const steps = buildSteps(store);
const { build, buildFails, run } = steps;
const SSH_AGENT = '/usr/bin/ssh-agent';
const SSH_ADD = '/usr/bin/ssh-add';
const sshTest = optionalTest(test, existsSync(SSH_AGENT) && existsSync(SSH_ADD) ? null : 'ssh tests: ssh-agent missing (apt-get install openssh-client)');




const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

const leftovers = () => steps.leftovers(['mounts']);

// startAgent runs `ssh-agent -D -a SOCK` (stopped at teardown, by its pid) and loads keys into it.
async function startAgent(t: ExecutionContext, dir: string, name: string, keys: string[]): Promise<string> {
  const socket = join(dir, `${name}.sock`);
  const agent = spawn(SSH_AGENT, ['-D', '-a', socket], { stdio: 'ignore' });
  t.teardown(() => {
    agent.kill();
  });
  for (let waited = 0; !existsSync(socket); waited += 20) {
    if (waited > 5000) throw new Error(`ssh-agent did not make ${socket}`);
    await sleep(20);
  }
  for (const key of keys) execFileSync(SSH_ADD, ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
  return socket;
}

// copySshAdd puts ssh-add, its libraries and its loader (as ld.so) into dir, to run in a busybox RUN.
async function copySshAdd(dir: string): Promise<void> {
  await mkdir(dir);
  const libs = [...execFileSync('ldd', [SSH_ADD], { encoding: 'utf8' }).matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]);
  for (const lib of libs) await copyFile(lib, join(dir, /\/ld-linux/.test(lib) ? 'ld.so' : basename(lib)));
  await copyFile(SSH_ADD, join(dir, 'ssh-add'));
}

sshTest('RUN --mount=type=ssh forwards the --ssh agent at the target, with SSH_AUTH_SOCK, mode and owner; the key ignores the socket path', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: [
      'FROM bb',
      'RUN --mount=type=bind,source=tools,target=/tools --mount=type=ssh /tools/ld.so --library-path /tools /tools/ssh-add -l > /keys && ' +
        'echo "$SSH_AUTH_SOCK" > /sock-env && stat -c "%F %a %u:%g" "$SSH_AUTH_SOCK" > /sock-stat',
      'RUN --mount=type=ssh,id=other,target=/agent,mode=0660,uid=1000,gid=50,required stat -c "%F %a %u:%g" /agent > /other-stat && echo "$SSH_AUTH_SOCK" > /other-env',
      'RUN --mount=type=ssh,id=absent --mount=type=ssh,id=default,target=/second (echo "$SSH_AUTH_SOCK"; test -e /run/buildkit/ssh_agent.0 || echo skipped; test -S /second && echo second) > /optional',
      '',
    ].join('\n'),
  });
  await copySshAdd(join(dir, 'tools'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'nbox-test-key', '-f', join(dir, 'key')]);
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'key.pub')], { encoding: 'utf8' });
  const agent = await startAgent(t, dir, 'agent', [join(dir, 'key')]);
  const other = await startAgent(t, dir, 'other', []);
  await build(t, ['-t', 'ssh', '--ssh', `default=${agent}`, '--ssh', `other=${other}`, dir]);
  t.is(await run(t, 'ssh', 'cat /keys'), fingerprint);
  t.is(await run(t, 'ssh', 'cat /sock-env /sock-stat /other-stat /other-env /optional'),
    '/run/buildkit/ssh_agent.0\nsocket 600 0:0\nsocket 660 1000:50\n/agent\n/run/buildkit/ssh_agent.0\nskipped\nsecond\n');
  // The sockets and the mount points made for them stay out of the layers.
  t.is(await run(t, 'ssh', 'ls -d /run /agent /second 2>&1 | grep -c "No such"'), '3\n');
  // Other agents at other paths (the default one from $SSH_AUTH_SOCK): every step is cached.
  const [agent2, other2] = [await startAgent(t, dir, 'agent2', []), await startAgent(t, dir, 'other2', [])];
  const cached = await cli(store.root, ['build', '--ssh', 'default', '--ssh', `other=${other2}`, dir], { env: { ...process.env, NBOX_ROOT: store.root, SSH_AUTH_SOCK: agent2 } });
  t.is(cached.code, 0, cached.stderr);
  t.is(count(cached.stdout, /Using cache/g), 3, cached.stdout);
  t.deepEqual(await leftovers(), []);
});

test('RUN --mount=type=ssh,required without its --ssh, or with a key file, fails on one line', async (t) => {
  const dir = await writeContext(t, { Dockerfile: 'FROM bb\nRUN --mount=type=ssh,required=true true\n', key: 'not a socket\n' });
  await buildFails(t, [dir], /^nbox: Dockerfile:2: ssh default: no SSH agent given \(use --ssh default\[=SOCKET\]\)$/m);
  await buildFails(t, ['--ssh', `default=${join(dir, 'key')}`, dir], /^nbox: Dockerfile:2: ssh default: .*\/key is not an ssh-agent socket \(nbox forwards agent sockets only, not key files/);
  const r = await cli(store.root, ['build', '--ssh', 'default=a,b', dir]);
  t.is(r.code, 125);
  t.regex(r.stderr, /key files are not supported/);
  t.deepEqual(await leftovers(), []);
});

test('a RUN bind from the context is cached on the content it shows, after .dockerignore', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: [
      'FROM bb',
      'RUN --mount=type=bind,source=one.txt,target=/one cat /one > /one-seen',
      'RUN --mount=type=bind,source=data,target=/data cat /data/f > /data-seen; ls /data > /data-list',
      '',
    ].join('\n'),
    '.dockerignore': 'data/ignored\n',
    'one.txt': 'one\n',
    'data/f': 'first\n',
    'data/ignored': 'never part of the key\n',
    unrelated: 'x\n',
  });
  const first = await build(t, ['-t', 'bind-key', dir]);
  t.is(count(first.stdout, /Running in/g), 2);
  const same = await build(t, ['-t', 'bind-key', dir]);
  t.is(count(same.stdout, /Using cache/g), 2, same.stdout);
  // Files outside the bound paths, and ignored ones inside, do not count.
  await writeFile(join(dir, 'unrelated'), 'y\n');
  await writeFile(join(dir, 'data/ignored'), 'changed\n');
  t.is(count((await build(t, ['-t', 'bind-key', dir])).stdout, /Using cache/g), 2);
  // A changed file in a bound directory reruns that step only.
  await writeFile(join(dir, 'data/f'), 'second\n');
  const changed = await build(t, ['-t', 'bind-key', dir]);
  t.is(count(changed.stdout, /Using cache/g), 1, changed.stdout);
  t.is(await run(t, 'bind-key', 'cat /one-seen /data-seen'), 'one\nsecond\n');
  // So does a new file there, and a changed bound file reruns both steps.
  await writeFile(join(dir, 'data/g'), 'new\n');
  t.is(count((await build(t, ['-t', 'bind-key', dir])).stdout, /Using cache/g), 1);
  await writeFile(join(dir, 'one.txt'), 'uno\n');
  t.is(count((await build(t, ['-t', 'bind-key', dir])).stdout, /Using cache/g), 0);
  t.is(await run(t, 'bind-key', 'cat /one-seen /data-seen'), 'uno\nsecond\n');
  // A mode change is a content change, as for COPY; an mtime alone is not.
  execFileSync('touch', ['-d', '2001-01-01', join(dir, 'data/f')]);
  t.is(count((await build(t, ['-t', 'bind-key', dir])).stdout, /Using cache/g), 2);
  await chmod(join(dir, 'data/f'), 0o600);
  t.is(count((await build(t, ['-t', 'bind-key', dir])).stdout, /Using cache/g), 1);
});

test('a RUN bind of an ignored or missing context path fails on one line', async (t) => {
  const dir = await writeContext(t, { Dockerfile: 'FROM bb\nRUN --mount=type=bind,source=secret.txt,target=/s cat /s\n', '.dockerignore': 'secret.txt\n', 'secret.txt': 'x\n' });
  await buildFails(t, [dir], /^nbox: Dockerfile:2: failed to compute cache key: "\/secret.txt" not found in the build context$/m);
  await writeFile(join(dir, 'Dockerfile'), 'FROM bb\nRUN --mount=type=bind,source=nope,target=/s true\n');
  await buildFails(t, [dir], /^nbox: Dockerfile:2: failed to compute cache key: "\/nope" not found in the build context$/m);
});

test('a --secret file that is missing or not a file fails the build at once, naming it', async (t) => {
  const dir = await writeContext(t, { Dockerfile: 'FROM bb\nRUN echo never-run\n' });
  await steps.buildFails(t, ['--secret', 'id=x,src=/nonexistent/token', dir], /^nbox: secret x: open \/nonexistent\/token: no such file or directory$/m);
  await steps.buildFails(t, ['--secret', `id=y,src=${dir}`, dir], new RegExp(`^nbox: secret y: ${dir} is not a file$`, 'm'));
  const r = await cli(store.root, ['build', '--secret', 'id=x,src=/nonexistent/token', dir]);
  t.is(r.stdout, '');
});
