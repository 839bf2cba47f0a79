// Containers across processes: a killed nbox leaks nothing, concurrent nbox
// processes keep the store consistent, and the library API cleans up.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { CLI, cli, rootTest, sharedTestStore, spawnCli } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** waitFor polls until check returns a value, or fails after a deadline. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('kill -9 of nbox during a run leaves no process and no mount behind', async (t) => {
  const marker = `nbox-kill-test-${process.pid}`;
  const nbox = spawnCli(store.root, ['run', '--name', marker, 'bb', 'sh', '-c', 'sleep 300 & sleep 300'], {
    stdio: 'ignore',
  });
  t.teardown(() => {
    if (nbox.exitCode === null) nbox.kill('SIGKILL');
  });
  const initPid = await waitFor('the container to start', async () => {
    const r = await cli(store.root, ['inspect', '--type', 'container', marker]);
    const pid = r.code === 0 ? JSON.parse(r.stdout)[0].State.Pid : 0;
    return pid ? (pid as number) : undefined;
  });
  const children = (await readFile(`/proc/${initPid}/task/${initPid}/children`, 'utf8')).trim().split(/\s+/).map(Number);
  t.true(children.length >= 1);
  nbox.kill('SIGKILL');
  await waitFor('the container processes to die', async () =>
    [initPid, ...children].some(processExists) ? undefined : true,
  );
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  t.false(mounts.includes(store.root), 'a container mount is visible on the host');
  // The record survives and reads as exited, as Docker reports a container whose engine died.
  const inspect = JSON.parse((await cli(store.root, ['inspect', marker])).stdout);
  t.is(inspect[0].State.Status, 'exited');
  t.is((await cli(store.root, ['rm', marker])).code, 0);
});

test('two nbox processes running and removing containers at once keep the store consistent', async (t) => {
  const rounds = 6;
  const worker = (prefix: string) =>
    new Promise<number | null>((resolveExit) => {
      const script = Array.from({ length: rounds }, (_, i) =>
        `node -- ${CLI} run --name ${prefix}-${i} bb true && node -- ${CLI} ps -a -q >/dev/null && node -- ${CLI} rm ${prefix}-${i} >/dev/null`,
      ).join(' && ');
      const child = spawn('sh', ['-c', script], { env: { ...process.env, NBOX_ROOT: store.root }, stdio: 'inherit' });
      child.on('close', resolveExit);
    });
  const codes = await Promise.all([worker('left'), worker('right')]);
  t.deepEqual(codes, [0, 0]);
  const ps = await cli(store.root, ['ps', '-a', '-q']);
  t.is(ps.code, 0, ps.stderr);
  t.is(ps.stdout, '');
  t.deepEqual(await readdir(join(store.root, 'containers')), []);
});

test('two processes racing for one container name: exactly one wins', async (t) => {
  const results = await Promise.all([1, 2].map(() => cli(store.root, ['run', '--name', 'contested', 'bb', 'true'])));
  const codes = results.map((r) => r.code).sort();
  t.deepEqual(codes, [0, 125]);
  const loser = results.find((r) => r.code === 125)!;
  t.regex(loser.stderr, /^nbox: Conflict\. The container name "\/contested" is already in use/);
  t.is(loser.stderr.split('\n').length, 2);
  const ps = await cli(store.root, ['ps', '-a']);
  t.is(ps.stdout.split('\n').filter((line) => line.includes('contested')).length, 1);
  await cli(store.root, ['rm', 'contested']);
});

test('library API: a command that ends before run() returns: exited resolves once its piped output, being read, is all in', async (t) => {
  // No network to set up: the command is done before run() returns, and the caller's listeners come after.
  for (let i = 0; i < 5; i++) {
    const container = await store.nbox.run('bb', { cmd: ['sh', '-c', 'echo out; echo err >&2'], network: 'none', stdio: 'pipe', autoRemove: true });
    let out = '';
    let err = '';
    container.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    container.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    t.deepEqual(await container.exited, { exitCode: 0, signal: null });
    t.deepEqual([out, err], ['out\n', 'err\n']);
  }
  // A stream nobody reads is not waited for.
  const unread = await store.nbox.run('bb', { cmd: ['echo', 'nobody reads this'], network: 'none', stdio: 'pipe', autoRemove: true });
  t.deepEqual(await unread.exited, { exitCode: 0, signal: null });
  unread.stdout!.destroy();
  unread.stderr!.destroy();
});

test('library API: run with piped stdio, exit status, and cleanup by disposal', async (t) => {
  const container = await store.nbox.run('bb', { cmd: ['sh', '-c', 'echo to-out; echo to-err >&2; exit 4'], stdio: 'pipe', autoRemove: true });
  const collect = (stream: NodeJS.ReadableStream | null) =>
    new Promise<string>((resolveText) => {
      let text = '';
      stream!.on('data', (d: Buffer) => (text += d.toString()));
      stream!.on('end', () => resolveText(text));
    });
  const [out, err, exit] = await Promise.all([collect(container.stdout), collect(container.stderr), container.exited]);
  t.is(out, 'to-out\n');
  t.is(err, 'to-err\n');
  t.deepEqual(exit, { exitCode: 4, signal: null });
  await t.throwsAsync(store.nbox.container(container.id), { code: 'ERR_NBOX_NO_SUCH_CONTAINER' });

  let pid = 0;
  {
    await using sleeper = await store.nbox.run('bb', { cmd: ['sleep', '300'], stdio: 'ignore', autoRemove: true });
    pid = sleeper.pid;
    t.true(processExists(pid));
  }
  t.false(processExists(pid));
});

test('library API: exited resolves as soon as the container exits, whatever else the loop waits for', async (t) => {
  const unrelated = setTimeout(() => {}, 60_000);
  t.teardown(() => clearTimeout(unrelated));
  const container = await store.nbox.run('bb', { cmd: ['true'], stdio: 'ignore', autoRemove: true });
  const outcome = await Promise.race([
    container.exited.then(() => 'exited'),
    new Promise((resolveLate) => setTimeout(() => resolveLate('late'), 5_000)),
  ]);
  t.is(outcome, 'exited');
});

test('library API: kill after exit reaches no other container', async (t) => {
  const first = await store.nbox.run('bb', { cmd: ['true'], stdio: 'ignore', autoRemove: true });
  await first.exited;
  // The next container's pidfd very likely reuses the first one's fd number.
  const second = await store.nbox.run('bb', { cmd: ['sleep', '300'], stdio: 'ignore', autoRemove: true });
  t.teardown(() => second[Symbol.asyncDispose]());
  t.false(first.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 100));
  t.true(processExists(second.pid));
});

test('library API: a handle found by name works the container and its disposal removes it', async (t) => {
  const running = await store.nbox.run('bb', { name: 'handled', cmd: ['sleep', '300'], stdio: 'ignore' });
  t.teardown(async () => {
    running.kill('SIGKILL');
    await running.exited;
    await cli(store.root, ['rm', '-f', 'handled']);
  });
  {
    await using handle = await store.nbox.container('handled');
    t.is(handle.id, running.id);
    t.is((await handle.exec(['sh', '-c', 'echo in > /f; cat /f'])).stdout, 'in\n');
    const tar = await handle.copyFrom('/f');
    const chunks: Buffer[] = [];
    for await (const chunk of tar) chunks.push(chunk as Buffer);
    t.true(Buffer.concat(chunks).includes('in\n'));
    t.true((await handle.inspect()).State.Running);
    await handle.stop({ timeout: 0 });
    t.is(await handle.wait(), 137);
    t.is((await handle.record()).state.status, 'exited');
  }
  await t.throwsAsync(store.nbox.container('handled'), { code: 'ERR_NBOX_NO_SUCH_CONTAINER' });
});
