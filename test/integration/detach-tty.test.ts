// `run -d -t`: the monitor asks the init for a pty of the container's own
// devpts and owns its master for the container's life; the master is the one
// `stdout` stream of the json-file log, with the terminal's \r\n, as in Docker.
import type { ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { cli, rootTest, sharedTestStore } from '../helpers/env';
import { runDetached } from '../helpers/detached';

const test = rootTest();
const store = sharedTestStore(test);

interface LogRecord {
  log: string;
  stream: string;
}

async function waited(t: ExecutionContext, id: string): Promise<void> {
  const r = await cli(store.root, ['wait', id]);
  t.deepEqual([r.code, r.stdout], [0, '0\n']);
}

function records(id: string): LogRecord[] {
  const text = readFileSync(join(store.root, 'containers', id, `${id}-json.log`), 'utf8');
  return text.slice(0, -1).split('\n').map((raw) => JSON.parse(raw) as LogRecord);
}

test('run -dt: 0-2 are a terminal of the container\'s devpts, its output one stdout stream with \\r\\n; start runs it with a terminal again', async (t) => {
  const id = await runDetached(t, store.root, ['-t', 'bb', 'sh', '-c', 'tty; test -t 0 && test -t 1 && echo all-terminals; echo err >&2; echo TERM=$TERM']);
  await waited(t, id);
  const expected = [
    { log: '/dev/pts/0\r\n', stream: 'stdout' },
    { log: 'all-terminals\r\n', stream: 'stdout' },
    { log: 'err\r\n', stream: 'stdout' },
    { log: 'TERM=xterm\r\n', stream: 'stdout' },
  ];
  t.deepEqual(records(id).map(({ log, stream }) => ({ log, stream })), expected);
  const logs = await cli(store.root, ['logs', id]);
  t.deepEqual([logs.code, logs.stdout, logs.stderr], [0, '/dev/pts/0\r\nall-terminals\r\nerr\r\nTERM=xterm\r\n', '']);

  // start: a new monitor, a new pty, the same log.
  t.is((await cli(store.root, ['start', id])).code, 0);
  await waited(t, id);
  t.deepEqual(records(id).map(({ log, stream }) => ({ log, stream })), [...expected, ...expected]);
});

test('create -t then start: the container runs with a terminal', async (t) => {
  const created = await cli(store.root, ['create', '-t', 'bb', 'sh', '-c', 'test -t 1 && echo on-a-terminal']);
  t.is(created.code, 0, created.stderr);
  const id = created.stdout.trim();
  t.teardown(() => cli(store.root, ['rm', '-f', id]).then(() => {}));
  t.is((await cli(store.root, ['start', id])).code, 0);
  await waited(t, id);
  t.deepEqual(records(id).map(({ log, stream }) => ({ log, stream })), [{ log: 'on-a-terminal\r\n', stream: 'stdout' }]);
});

test('run -dt with a restart policy: each life of the init gets a terminal of its own, logged as one stream', async (t) => {
  const id = await runDetached(t, store.root, ['-t', '--restart', 'on-failure:1', 'bb', 'sh', '-c', 'tty; exit 3']);
  const r = await cli(store.root, ['wait', id]);
  // wait may return between the two lives (the restart is on record as restarting, not exited).
  for (let i = 0; i < 200 && JSON.parse(readFileSync(join(store.root, 'containers', id, 'state.json'), 'utf8')).status !== 'exited'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.is(r.code, 0);
  const state = JSON.parse(readFileSync(join(store.root, 'containers', id, 'state.json'), 'utf8'));
  t.like(state, { status: 'exited', exitCode: 3, restartCount: 1 });
  t.deepEqual(records(id).map(({ log, stream }) => ({ log, stream })), [
    { log: '/dev/pts/0\r\n', stream: 'stdout' },
    { log: '/dev/pts/0\r\n', stream: 'stdout' },
  ]);
});
