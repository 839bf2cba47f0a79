// `start -a` and `start -i`: the start socket is the attach connection, taken
// by the monitor before the init runs, so even a command's first bytes reach
// the caller; the caller exits with the container's exit code.
import type { ExecutionContext } from 'ava';
import { createHash, randomBytes } from 'node:crypto';

import { cli, rootTest, sharedTestStore, spawnCli } from '../helpers/env';
import { NBOX, inTerminal } from '../helpers/terminal';
import { endAtTeardown, stateOf, until } from '../helpers/detached';

const test = rootTest();
const store = sharedTestStore(test);

async function create(t: ExecutionContext, args: string[]): Promise<string> {
  const r = await cli(store.root, ['create', ...args]);
  if (r.code !== 0) throw new Error(`create ${args.join(' ')}: ${r.code} ${r.stderr}`);
  const id = r.stdout.trim();
  endAtTeardown(t, store.root, id);
  return id;
}

test('start -a: stdout and stderr kept apart from the first byte, the exit code, no ID printed; every start', async (t) => {
  const id = await create(t, ['bb', 'sh', '-c', 'echo out-first; echo err-first >&2; exit 5']);
  for (let run = 0; run < 3; run++) {
    const r = await cli(store.root, ['start', '-a', id]);
    t.deepEqual([r.code, r.stdout, r.stderr], [5, 'out-first\n', 'err-first\n']);
  }
  t.is(stateOf(store.root, id)?.exitCode, 5);
});

test('start -a: a reader slower than the container loses nothing (the monitor waits for it)', async (t) => {
  const id = await create(t, ['bb', 'seq', '1', '200000']);
  const child = spawnCli(store.root, ['start', '-a', id]);
  child.stdout!.pause();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stdout!.resume();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const expected = Array.from({ length: 200000 }, (_, i) => `${i + 1}\n`).join('');
  t.is(code, 0);
  t.true(Buffer.concat(chunks).toString() === expected);
});

test('start -ai: piped input reaches a -i container; start -i alone attaches too', async (t) => {
  const id = await create(t, ['-i', 'bb', 'sh', '-c', 'read line; echo got-$line; exit 2']);
  const r = await cli(store.root, ['start', '-ai', id], { input: 'one\n' });
  t.deepEqual([r.code, r.stdout], [2, 'got-one\n']);
  const again = await cli(store.root, ['start', '-i', id], { input: 'two\n' });
  t.deepEqual([again.code, again.stdout], [2, 'got-two\n']);
});

test('start -a of a --rm container: its exit code though its record is gone', async (t) => {
  const id = await create(t, ['--rm', 'bb', 'sh', '-c', 'echo bye; exit 9']);
  const r = await cli(store.root, ['start', '-a', id]);
  t.deepEqual([r.code, r.stdout], [9, 'bye\n']);
  t.is(stateOf(store.root, id), null);
});

test('start -a of several containers: Docker\'s message, exit 1, none started', async (t) => {
  const a = await create(t, ['bb', 'true']);
  const b = await create(t, ['bb', 'true']);
  const r = await cli(store.root, ['start', '-a', a, b]);
  t.deepEqual([r.code, r.stderr], [1, 'nbox: you cannot start and attach multiple containers at once\n']);
  t.is(stateOf(store.root, a)?.status, 'created');
});

test('start -ai of a -it container in a terminal: typed input, the detach keys leave it Up, attach gets the exit code', async (t) => {
  const id = await create(t, ['-it', '--name', 'sai', 'bb', 'sh']);
  const first = inTerminal(t, store.root, `${NBOX} start -ai sai; echo rc=$?`);
  first.type('echo hi-$((4+5))\n');
  await first.waitFor(/hi-9/);
  first.type('\x10\x11');
  t.regex((await first.ended).output, /read escape sequence\r?\nrc=0/);
  t.is(stateOf(store.root, id)?.status, 'running');
  const second = inTerminal(t, store.root, `${NBOX} attach sai; echo rc=$?`);
  second.type('exit 6\n');
  t.regex((await second.ended).output, /rc=6/);
  await until('exited', () => (stateOf(store.root, id)?.status === 'exited' ? true : undefined));
});

// withInput runs nbox with input as its stdin (bytes, not text) and resolves with its code and stdout.
function withInput(args: string[], input: Buffer): Promise<{ code: number | null; stdout: string }> {
  const child = spawnCli(store.root, args);
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stdin!.on('error', () => {});
  child.stdin!.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout })));
}

test('piped input reaches the container whole, faster than it reads, ctrl-p ctrl-q bytes and all: start -ai, and run -i through the monitor (its end is the container\'s EOF)', async (t) => {
  // 3 MB, many pipe-fulls: the monitor must hold the client back, not drop what the pipe cannot take.
  const input = Buffer.concat([randomBytes(3_000_000), Buffer.from('\x10\x11tail')]);
  const sum = createHash('md5').update(input).digest('hex');
  const id = await create(t, ['-i', 'bb', 'sh', '-c', `head -c ${input.length} | md5sum`]);
  const started = await withInput(['start', '-ai', id], input);
  t.deepEqual([started.code, started.stdout.split(' ')[0]], [0, sum]);
  // --restart makes a foreground run go through the monitor; stdin's end closes the container's stdin.
  const run = await withInput(['run', '-i', '--name', 'piped-restart', '--restart', 'on-failure:1', 'bb', 'md5sum'], input);
  endAtTeardown(t, store.root, (await cli(store.root, ['ps', '-aq', '--no-trunc', '--filter', 'name=piped-restart'])).stdout.trim());
  t.deepEqual([run.code, run.stdout.split(' ')[0]], [0, sum]);
});
