// snapshot() and restore() of a container's writable layer (issue 14): what a
// test suite resetting a database container between tests relies on.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

import type { Container } from '../../src/api';
import { cli, rootTest, sharedTestStore } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

// A service that flushes on its stop signal, as a database does.
const SERVICE = ['sh', '-c', 'trap "echo flushed > /flushed; exit 0" TERM; while :; do sleep 0.1; done'];

async function sh(c: Container, script: string): Promise<string> {
  const result = await c.exec(['sh', '-c', script], { reject: true });
  return result.stdout ?? '';
}

async function exists(c: Container, path: string): Promise<boolean> {
  return (await c.exec(['test', '-e', path])).exitCode === 0;
}

test('restore brings a running container back to its snapshot, with its ID, name, address and ports', async (t) => {
  await using c = await store.nbox.run('bb', { cmd: SERVICE, detach: true, publish: ['80'], name: 'snapdb' });
  await sh(c, 'echo before > /before; rm /etc/group; mkdir -p /var/db; echo seeded > /var/db/rows');
  const before = await c.inspect();
  const port = await c.port(80);
  const taken = await c.snapshot();
  t.is(taken.id, 1);
  t.true(await exists(c, '/flushed'), 'the stop signal ran the trap before the layer was kept');
  await sh(c, 'echo after > /after; echo changed > /var/db/rows; rm /etc/passwd /before');
  const pid = (await c.record()).state.pid;

  await c.restore();
  const record = await c.record();
  t.is(record.state.status, 'running');
  t.not(record.state.pid, pid, 'a new init');
  t.is(record.state.restartCount ?? 0, 0, 'a restore is no restart');
  t.is(await sh(c, 'cat /before /var/db/rows'), 'before\nseeded\n', 'what was written before the snapshot stays');
  t.false(await exists(c, '/after'), 'what was written after it goes');
  t.false(await exists(c, '/etc/group'), 'an image file deleted before it stays deleted (its whiteout is in the snapshot)');
  t.true(await exists(c, '/etc/passwd'), 'an image file deleted after it is back');
  const after = await c.inspect();
  t.is(after.Id, before.Id);
  t.is(after.Name, '/snapdb');
  t.is(after.NetworkSettings.IPAddress, before.NetworkSettings.IPAddress);
  t.is(await c.port(80), port);

  // Again: a test suite restores after every test.
  await sh(c, 'echo again > /after');
  await c.restore();
  t.false(await exists(c, '/after'));
  t.true(await exists(c, '/before'));
  t.deepEqual((await c.snapshots()).map((s) => s.id), [1]);
  const leftovers = (await readdir(join(store.root, 'tmp'))).filter((name) => name.endsWith('-restore'));
  t.deepEqual(leftovers, [], 'the discarded layers are deleted');
});

test('diff, commit and export see the snapshots: changes against the image', async (t) => {
  await using c = await store.nbox.run('bb', { cmd: ['sleep', '600'], detach: true, network: 'none' });
  await sh(c, 'rm /etc/group; mkdir /d; echo 1 > /d/a; echo gone > /gone');
  await c.snapshot({ timeout: 0 });
  await sh(c, 'rm /gone; rm -r /d; mkdir /d; echo 2 > /d/b; echo new > /new');
  const changes = (await store.nbox.diffContainer(c.id)).map((change) => `${change.kind} ${change.path}`);
  t.deepEqual(changes, ['A /d', 'A /d/b', 'C /etc', 'D /etc/group', 'A /new']);

  const image = await c.commit({ reference: 'snapcommit:1' });
  t.teardown(() => store.nbox.removeImage(image, { force: true }).then(() => {}));
  const run = await store.nbox.run('snapcommit:1', { cmd: ['sh', '-c', 'ls /d; test -e /etc/group || echo no-group; test -e /gone || echo no-gone; cat /new'], stdio: 'pipe', network: 'none', autoRemove: true });
  let out = '';
  run.stdout!.on('data', (chunk: Buffer) => (out += chunk));
  t.is((await run.exited).exitCode, 0);
  t.is(out, 'b\nno-group\nno-gone\nnew\n');

  const exported = await cli(store.root, ['export', c.id]);
  t.is(exported.code, 0);
  const listed = await cli(store.root, ['diff', c.id]);
  t.is(listed.stdout, 'A /d\nA /d/b\nC /etc\nD /etc/group\nA /new\n');
});

test('a stopped container snapshots and restores and stays stopped; restore(n) drops later snapshots, restore(0) goes back to the image', async (t) => {
  await using c = await store.nbox.run('bb', { cmd: ['sleep', '600'], detach: true, network: 'none' });
  await sh(c, 'echo one > /one');
  await c.stop({ timeout: 0 });
  t.deepEqual(await c.snapshot(), { id: 1, created: (await c.snapshots())[0].created });
  t.is((await c.record()).state.status, 'exited');
  await c.start();
  await sh(c, 'echo two > /two');
  t.is((await c.snapshot({ timeout: 0 })).id, 2);
  await sh(c, 'echo three > /three');

  await c.restore(1);
  t.is((await c.record()).state.status, 'running');
  t.true(await exists(c, '/one'));
  t.false(await exists(c, '/two'), 'snapshot 2 is dropped');
  t.false(await exists(c, '/three'));
  t.deepEqual((await c.snapshots()).map((s) => s.id), [1]);

  await c.stop({ timeout: 0 });
  await c.restore(0);
  t.is((await c.record()).state.status, 'exited');
  t.deepEqual(await c.snapshots(), []);
  await c.start();
  t.false(await exists(c, '/one'), 'back to the image');
  await t.throwsAsync(c.restore(7), { message: /No such snapshot: 7/ });
});

test('a foreground container snapshots and restores too (it then runs under a monitor, as after restart)', async (t) => {
  const c = await store.nbox.run('bb', { cmd: ['sleep', '600'], stdio: 'ignore', network: 'none' });
  const handle = await store.nbox.container(c.id);
  t.teardown(() => handle.remove({ force: true }).catch(() => {}));
  await sh(handle, 'echo kept > /kept');
  await handle.snapshot({ timeout: 0 });
  await c.exited;
  await sh(handle, 'echo dropped > /dropped');
  await handle.restore();
  t.true(await exists(handle, '/kept'));
  t.false(await exists(handle, '/dropped'));
});

test('the CLI: container snapshot and restore', async (t) => {
  const created = await cli(store.root, ['run', '-d', '--network', 'none', '--name', 'snapcli', 'bb', 'sleep', '600']);
  t.teardown(() => cli(store.root, ['rm', '-f', 'snapcli']).then(() => {}));
  t.is(created.code, 0);
  t.is((await cli(store.root, ['exec', 'snapcli', 'touch', '/kept'])).code, 0);
  const snapped = await cli(store.root, ['container', 'snapshot', '-t', '0', 'snapcli']);
  t.is(snapped.code, 0, snapped.stderr);
  t.is(snapped.stdout, '1\n');
  t.is((await cli(store.root, ['exec', 'snapcli', 'touch', '/dropped'])).code, 0);
  const restored = await cli(store.root, ['container', 'restore', 'snapcli']);
  t.is(restored.code, 0, restored.stderr);
  t.is((await cli(store.root, ['exec', 'snapcli', 'ls', '/kept'])).code, 0);
  t.is((await cli(store.root, ['exec', 'snapcli', 'ls', '/dropped'])).code, 1);
  const bad = await cli(store.root, ['container', 'restore', 'nosuch']);
  t.is(bad.code, 1);
  t.is(bad.stderr, 'nbox: No such container: nosuch\n');
});
