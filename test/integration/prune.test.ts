// `image prune`, `container prune` and `builder prune` on a store of their own: what goes,
// what stays, the confirmation prompt and Docker's report.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { Store } from '../../src/image/store';
import { cli, exitCodeOf, rootTest, sharedTestStore, spawnCli, tarOf, writeContext } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

const DANGLING_PROMPT = 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ';

async function exists(ref: string): Promise<boolean> {
  return (await cli(store.root, ['inspect', '--type', 'image', ref])).code === 0;
}

test('image prune asks first, then removes the dangling images only', async (t) => {
  const dangling = await store.nbox.importImage(tarOf('/etc', ['hostname']));
  const used = await store.nbox.importImage(tarOf('/etc', ['hosts']), { changes: ['CMD ["x"]'] });
  const tagged = await store.nbox.importImage(tarOf('/etc', ['hostname']), { tags: ['keep:1'], changes: ['ENV A=1'] });
  t.is((await cli(store.root, ['run', '--name', 'uses-dangling', used])).code, 127);
  for (const answer of ['', 'n\n', 'yes\n']) {
    const declined = await cli(store.root, ['image', 'prune'], { input: answer });
    t.is(declined.code, 0, declined.stderr);
    t.is(declined.stdout, DANGLING_PROMPT);
    t.true(await exists(dangling));
  }
  const r = await cli(store.root, ['image', 'prune'], { input: 'y\n' });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`^${DANGLING_PROMPT.replace(/[?[\]]/g, '\\$&')}Deleted Images:\ndeleted: ${dangling}\n\nTotal reclaimed space: \\d+(\\.\\d+)?[kM]?B\n$`));
  t.false(await exists(dangling));
  t.true(await exists(used));
  t.true(await exists(tagged));
  t.true(await exists('bb'));
  const again = await cli(store.root, ['image', 'prune', '-f']);
  t.is(again.stdout, 'Total reclaimed space: 0B\n');
  t.is((await cli(store.root, ['rm', 'uses-dangling'])).code, 0);
});

test('image prune -a removes every image no container uses, names first', async (t) => {
  const tagged = await store.nbox.importImage(tarOf('/etc', ['hostname']), { tags: ['gone:1', 'gone:2'], changes: ['ENV B=1'] });
  t.is((await cli(store.root, ['run', '--name', 'keeps-bb', 'bb', 'true'])).code, 0);
  const r = await cli(store.root, ['image', 'prune', '-a', '-f']);
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.startsWith('Deleted Images:\n'), r.stdout);
  t.true(r.stdout.includes(`untagged: gone:1\nuntagged: gone:2\ndeleted: ${tagged}\n`), r.stdout);
  t.true(r.stdout.includes('untagged: keep:1\n'));
  t.regex(r.stdout, /\n\nTotal reclaimed space: [1-9][\d.]*[kM]?B\n$/);
  t.false(await exists(tagged));
  t.false(await exists('keep:1'));
  t.true(await exists('bb'));
  t.is((await cli(store.root, ['images', '-q'])).stdout.trim().split('\n').length, 1);
  t.is((await cli(store.root, ['rm', 'keeps-bb'])).code, 0);
});

test('container prune removes the stopped containers and leaves a running one', async (t) => {
  const made = await cli(store.root, ['run', '--name', 'stopped-one', 'bb', 'sh', '-c', 'head -c 5000 /dev/zero > /root/blob']);
  t.is(made.code, 0, made.stderr);
  const stoppedId = JSON.parse((await cli(store.root, ['inspect', 'stopped-one'])).stdout)[0].Id as string;
  const child = spawnCli(store.root, ['run', '--name', 'still-running', 'bb', 'sleep', '300'], { stdio: 'ignore' });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  while (!(await cli(store.root, ['ps'])).stdout.includes('still-running')) await new Promise((r) => setTimeout(r, 20));
  const declined = await cli(store.root, ['container', 'prune']);
  t.is(declined.stdout, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
  const r = await cli(store.root, ['container', 'prune', '-f']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, `Deleted Containers:\n${stoppedId}\n\nTotal reclaimed space: 5kB\n`);
  const ps = (await cli(store.root, ['ps', '-a'])).stdout;
  t.false(ps.includes('stopped-one'));
  t.true(ps.includes('still-running'));
  t.is((await cli(store.root, ['rm', '-f', 'still-running'])).code, 0);
  await exitCodeOf(child);
});

test('builder prune empties the step cache and the RUN cache mounts, unless a build holds them', async (t) => {
  const dir = await writeContext(t, { Dockerfile: 'FROM bb\nRUN --mount=type=cache,target=/cache head -c 3000 /dev/zero > /cache/blob\nRUN echo step > /step\n' });
  t.is((await cli(store.root, ['build', '-q', '-t', 'cached:1', dir])).code, 0);
  const entries = async () => [...await readdir(join(store.root, 'buildcache')), ...await readdir(join(store.root, 'cache-mounts'))];
  t.true((await entries()).length >= 3);

  const held = await Store.open(store.root);
  const unpin = await held.layers.pin();
  const refused = await cli(store.root, ['builder', 'prune', '-f']);
  await unpin();
  t.is(refused.code, 1);
  t.is(refused.stderr, 'nbox: the build cache is in use by a running build (or save, load, pull, push): try again when it ends\n');
  t.true((await entries()).length >= 3);

  const r = await cli(store.root, ['builder', 'prune', '-f']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^Deleted build cache objects:\n([0-9a-f]{64}\n){3,}\nTotal reclaimed space: 3\.\d+kB\n$/);
  t.deepEqual(await entries(), []);
  const again = await cli(store.root, ['build', '-t', 'cached:1', dir]);
  t.false(again.stdout.includes('Using cache'), again.stdout);
  t.is((await cli(store.root, ['run', '--rm', 'cached:1', 'cat', '/step'])).stdout, 'step\n');
});

test('system df shows images, containers and build cache as Docker does', async (t) => {
  t.is((await cli(store.root, ['run', '--name', 'df-user', 'bb', 'sh', '-c', 'head -c 2000 /dev/zero > /root/blob'])).code, 0);
  t.teardown(async () => void (await cli(store.root, ['rm', 'df-user'])));
  const r = await cli(store.root, ['system', 'df']);
  t.is(r.code, 0, r.stderr);
  const [header, images, containers, volumes, cache] = r.stdout.trim().split('\n').map((line) => line.split(/\s{3,}/));
  t.deepEqual(header, ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE']);
  const listed = (await cli(store.root, ['images', '-q'])).stdout.trim().split('\n').length;
  t.deepEqual(images.slice(0, 3), ['Images', String(listed), '1']);
  t.regex(images[4], /^[\d.]+[kM]?B \(\d{1,2}%\)$/);
  t.deepEqual(containers, ['Containers', '1', '0', '2kB', '2kB (100%)']);
  t.deepEqual(volumes, ['Local Volumes', '0', '0', '0B', '0B']);
  t.is(cache[0], 'Build Cache');
  t.not(cache[1], '0');
  t.is(cache[2], '0');
  t.is(cache[3], cache[4]);

  // -v: the docker CLI's sections, each its table; a container's own bytes, not its virtual size.
  const verbose = await cli(store.root, ['system', 'df', '-v']);
  t.is(verbose.code, 0, verbose.stderr);
  const sections = verbose.stdout.split('\n\n');
  t.deepEqual(sections.filter((_, i) => i % 2 === 0), ['Images space usage:', 'Containers space usage:', 'Local Volumes space usage:', `Build cache usage: ${cache[3]}`]);
  const rows = (section: number) => sections[section].trimEnd().split('\n').map((line) => line.split(/\s{3,}/));
  t.deepEqual(rows(1)[0], ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS']);
  const bb = rows(1).find((cells) => cells[0] === 'bb');
  t.deepEqual([bb?.[1], bb?.[7]], ['latest', '1']);
  t.deepEqual(rows(3)[0], ['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES']);
  const [, image, , localVolumes, size, , , name] = rows(3)[1];
  t.deepEqual([image, localVolumes, size, name], ['bb', '0', '2kB', 'df-user']);
  t.deepEqual(rows(5), [['VOLUME NAME', 'LINKS', 'SIZE']]);
  t.deepEqual(rows(7)[0], ['CACHE ID', 'CACHE TYPE', 'SIZE', 'CREATED', 'LAST USED', 'USAGE', 'SHARED']);
  t.is(rows(7).length, Number(cache[1]) + 1);
});
