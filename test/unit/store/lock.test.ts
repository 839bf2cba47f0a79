import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { lockFile, tryLockFile } from '../../../src/store/lock';
import { tempDir } from '../image/helpers';

const holdLock = path.join(__dirname, 'fixtures', 'hold-lock.js');

test('an exclusive lock waits until its holder releases it', async (t) => {
  const file = path.join(await tempDir(t), 'lock');
  const events: string[] = [];
  const first = await lockFile(file);
  const second = lockFile(file).then((release) => {
    events.push('second holds');
    return release;
  });
  // Long enough for the waiter to poll a few times; the order below is what is checked.
  await sleep(30);
  events.push('first releases');
  await first();
  await (await second)();
  t.deepEqual(events, ['first releases', 'second holds']);
});

test('shared locks coexist and keep an exclusive one out until both are released', async (t) => {
  const file = path.join(await tempDir(t), 'lock');
  const one = await lockFile(file, 'shared');
  const two = await tryLockFile(file, 'shared');
  t.truthy(two, 'a second shared lock is granted');
  t.is(await tryLockFile(file, 'exclusive'), undefined);
  await one();
  t.is(await tryLockFile(file, 'exclusive'), undefined, 'one shared holder is left');
  await two!();
  const exclusive = await tryLockFile(file, 'exclusive');
  t.truthy(exclusive);
  t.is(await tryLockFile(file, 'shared'), undefined);
  await exclusive!();
  await exclusive!();
  t.truthy(await tryLockFile(file, 'shared'), 'releasing twice is harmless');
});

test('a lock whose holder was killed is free: the kernel drops it', async (t) => {
  const file = path.join(await tempDir(t), 'lock');
  const child = spawn(process.execPath, [holdLock, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  t.is(line.toString(), 'held\n');
  t.is(await tryLockFile(file), undefined, 'held by the child');
  child.kill('SIGKILL');
  await once(child, 'exit');
  const release = await lockFile(file);
  await release();
  t.pass();
});

test('a lock file that cannot be opened is an error, not a wait', async (t) => {
  const file = path.join(await tempDir(t), 'no', 'such', 'dir', 'lock');
  await t.throwsAsync(lockFile(file), { code: 'ENOENT' } as object);
  await t.throwsAsync(tryLockFile(file), { code: 'ENOENT' } as object);
});
