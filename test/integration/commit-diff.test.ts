// `nbox diff` and `nbox commit` of exited containers: Docker's A/C/D lines
// and order, an image made of the writable layer with the container's config
// and -c changes, no runtime mount stubs in it, and Docker's errors.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { cli, exitCodeOf, rootTest, sharedTestStore, spawnCli } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

test.before(async () => {
  if (!store.root) return;
  const made = await cli(store.root, ['run', '--name', 'changed', 'bb', 'sh', '-c',
    'mkdir -p /a/b /a-c && echo x > /a/b/f && echo y > /a-c/g && rm /etc/group && echo more >> /etc/passwd && echo new > /tmp/new']);
  if (made.code !== 0) throw new Error(`container setup failed: ${made.stderr}`);
});

test('diff prints A, C and D lines, parents first and names in byte order, without the mount stubs', async (t) => {
  const r = await cli(store.root, ['diff', 'changed']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, [
    'A /a', 'A /a/b', 'A /a/b/f', 'A /a-c', 'A /a-c/g',
    'C /etc', 'D /etc/group', 'C /etc/passwd',
    'C /tmp', 'A /tmp/new', '',
  ].join('\n'));
});

test('diff of an unknown container: No such container, exit 1', async (t) => {
  const r = await cli(store.root, ['diff', 'ghost']);
  t.is(r.code, 1);
  t.is(r.stderr, 'nbox: No such container: ghost\n');
});

test('commit prints the new image ID and tags it', async (t) => {
  const r = await cli(store.root, ['commit', 'changed', 'snap:one']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const inspect = JSON.parse((await cli(store.root, ['inspect', 'snap:one'])).stdout);
  t.is(`${inspect[0].Id}\n`, r.stdout);
});

test('a committed image holds the container\'s files and deletions', async (t) => {
  t.is((await cli(store.root, ['commit', 'changed', 'snap:files'])).code, 0);
  const r = await cli(store.root, ['run', '--rm', 'snap:files', 'sh', '-c', 'cat /a/b/f /tmp/new; test -e /etc/group || echo gone']);
  t.is(r.stdout, 'x\nnew\ngone\n');
});

test('commit keeps the container\'s command and applies -c changes, -m and -a', async (t) => {
  const r = await cli(store.root, ['commit', '-c', 'ENV GREETING=hello', '-c', 'CMD ["sh", "-c", "echo $GREETING"]', '-m', 'a message', '-a', 'Ann <ann@example.com>', 'changed', 'snap:changes']);
  t.is(r.code, 0, r.stderr);
  t.is((await cli(store.root, ['run', '--rm', 'snap:changes'])).stdout, 'hello\n');
  const [image] = JSON.parse((await cli(store.root, ['inspect', 'snap:changes'])).stdout);
  t.is(image.Author, 'Ann <ann@example.com>');
  t.is(image.Comment, 'a message');
  const history = (await cli(store.root, ['history', '--no-trunc', '--format', '{{.Comment}}|{{.CreatedBy}}', 'snap:changes'])).stdout.split('\n');
  t.true(history[0].startsWith('a message|sh -c mkdir -p /a/b'), history[0]);
  // history --format is a Go template too, with a table's headers.
  const table = (await cli(store.root, ['history', '--format', 'table {{.Comment | upper}}', 'snap:changes'])).stdout.split('\n');
  t.deepEqual(table.slice(0, 2), ['COMMENT', 'A MESSAGE']);
});

test('commit without -c keeps the command the container ran', async (t) => {
  t.is((await cli(store.root, ['run', '--name', 'cmd', 'bb', 'echo', 'from the container'])).code, 0);
  t.is((await cli(store.root, ['commit', 'cmd', 'snap:cmd'])).code, 0);
  t.is((await cli(store.root, ['run', '--rm', 'snap:cmd'])).stdout, 'from the container\n');
});

test('commit leaves the runtime\'s mount stubs out of the layer', async (t) => {
  t.is((await cli(store.root, ['commit', 'changed', 'snap:stubs'])).code, 0);
  const [image] = JSON.parse((await cli(store.root, ['inspect', 'snap:stubs'])).stdout);
  const top = (image.RootFS.Layers as string[]).at(-1)!.slice('sha256:'.length);
  const layer = join(store.root, 'layers', top, 'diff');
  t.true(existsSync(join(layer, 'etc/passwd')));
  for (const stub of ['etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'proc', 'sys', 'dev']) t.false(existsSync(join(layer, stub)), stub);
});

test('commit with a -c instruction docker commit does not take fails, exit 1, and adds no image', async (t) => {
  const before = (await cli(store.root, ['images', '-q', '-a'])).stdout;
  const r = await cli(store.root, ['commit', '-c', 'RUN true', 'changed', 'snap:bad']);
  t.is(r.code, 1);
  t.is(r.stderr, 'nbox: dockerfile parse error line 1: RUN is not a valid change command\n');
  t.is((await cli(store.root, ['images', '-q', '-a'])).stdout, before);
});

test('commit of an unknown container: No such container, exit 1', async (t) => {
  const r = await cli(store.root, ['commit', 'ghost']);
  t.is(r.code, 1);
  t.is(r.stderr, 'nbox: No such container: ghost\n');
});

test('diff and commit of a running container see what it wrote so far', async (t) => {
  const running = spawnCli(store.root, ['run', '--name', 'live', 'bb', 'sh', '-c', 'echo live > /live; sleep 300'], { stdio: 'ignore' });
  t.teardown(async () => {
    if (running.exitCode === null) running.kill('SIGKILL');
    await exitCodeOf(running);
    await cli(store.root, ['rm', '-f', 'live']);
  });
  let diff = '';
  for (let i = 0; i < 200 && !diff.includes('A /live'); i++) {
    diff = (await cli(store.root, ['diff', 'live'])).stdout;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.regex(diff, /^A \/live$/m);
  t.is((await cli(store.root, ['commit', '--pause', 'live', 'snap:live'])).code, 0);
  t.is((await cli(store.root, ['run', '--rm', 'snap:live', 'cat', '/live'])).stdout, 'live\n');
});

test('commit freezes a running container while it copies the layer and thaws it after; --pause=false does not', async (t) => {
  const running = spawnCli(store.root, ['run', '--name', 'frozen', 'bb', 'sh', '-c', 'head -c 30000000 /dev/zero > /big && echo ready > /ready; sleep 300'], { stdio: 'ignore' });
  t.teardown(async () => {
    if (running.exitCode === null) running.kill('SIGKILL');
    await exitCodeOf(running);
    await cli(store.root, ['rm', '-f', 'frozen']);
  });
  for (let i = 0; i < 400 && !(await cli(store.root, ['diff', 'frozen'])).stdout.includes('A /ready'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const freezer = (await store.nbox.containerRecord('frozen')).state.cgroup!.find((dir) => dir.includes('/freezer/'))!;
  const seen = async (pause: boolean) => {
    const states = new Set<string>();
    const poll = setInterval(() => states.add(readFileSync(join(freezer, 'freezer.state'), 'utf8').trim()), 2);
    try {
      if (pause) await store.nbox.commitContainer('frozen');
      else t.is((await cli(store.root, ['commit', '--pause=false', 'frozen'])).code, 0);
    } finally {
      clearInterval(poll);
    }
    return states;
  };
  t.true((await seen(true)).has('FROZEN'));
  t.is(readFileSync(join(freezer, 'freezer.state'), 'utf8').trim(), 'THAWED');
  t.false((await seen(false)).has('FROZEN'));
  t.is((await cli(store.root, ['ps', '--filter', 'name=frozen', '--format', '{{.Status}}'])).stdout.startsWith('Up'), true);
});
