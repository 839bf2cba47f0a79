// `nbox logs` of a container record whose json-file log the test writes, as
// the -d monitor writes it: streams kept apart, -t, --tail, --since, errors.
import type { ExecutionContext } from 'ava';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { cli, exitCodeOf, rootTest, sharedTestStore, spawnCli } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

const RECORDS = [
  { log: 'out one\n', stream: 'stdout', time: '2024-05-06T07:08:01.123456789Z' },
  { log: 'err "one"\n', stream: 'stderr', time: '2024-05-06T07:08:02Z' },
  { log: 'out two\n', stream: 'stdout', time: '2024-05-06T07:08:03.5Z' },
  { log: 'err two\n', stream: 'stderr', time: '2024-05-06T07:08:04Z' },
];

// logged makes a stopped container and writes its json-file log; returns the log's path.
async function logged(t: ExecutionContext, name: string, text: string): Promise<string> {
  const container = await store.nbox.run('bb', { cmd: ['true'], name, stdio: 'ignore' });
  await container.exited;
  const id = container.id;
  const path = join(store.root, 'containers', id, `${id}-json.log`);
  await writeFile(path, text);
  t.teardown(async () => void (await store.nbox.removeContainer(name, { force: true })));
  return path;
}

const jsonLines = (records: object[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');

test('logs prints stdout records to stdout and stderr records to stderr', async (t) => {
  await logged(t, 'two-streams', `${jsonLines(RECORDS)}{"log":"torn`);
  const r = await cli(store.root, ['logs', 'two-streams']);
  t.deepEqual([r.code, r.stdout, r.stderr], [0, 'out one\nout two\n', 'err "one"\nerr two\n']);
  const stamped = await cli(store.root, ['logs', '-t', 'two-streams']);
  t.is(stamped.stdout, '2024-05-06T07:08:01.123456789Z out one\n2024-05-06T07:08:03.500000000Z out two\n');
  t.is(stamped.stderr, '2024-05-06T07:08:02.000000000Z err "one"\n2024-05-06T07:08:04.000000000Z err two\n');
  const tail = await cli(store.root, ['logs', '--tail', '2', 'two-streams']);
  t.deepEqual([tail.stdout, tail.stderr], ['out two\n', 'err two\n']);
  const n = await cli(store.root, ['logs', '-n', '1', 'two-streams']);
  t.deepEqual([n.stdout, n.stderr], ['', 'err two\n']);
  const since = await cli(store.root, ['logs', '--since', '2024-05-06T07:08:03Z', '--until', '1714979283.9', 'two-streams']);
  t.deepEqual([since.code, since.stdout, since.stderr], [0, 'out two\n', '']);
  // A stopped container's log followed ends at its end.
  const followed = await cli(store.root, ['logs', '-f', 'two-streams']);
  t.deepEqual([followed.code, followed.stdout], [0, 'out one\nout two\n']);
  // The library reads the same entries.
  const entries = [];
  for await (const entry of store.nbox.logs('two-streams', { tail: 1 })) entries.push(entry);
  t.deepEqual(entries, [{ stream: 'stderr', time: '2024-05-06T07:08:04Z', line: 'err two' }]);
});

test('a bad --since or --until is the docker client message, exit 1', async (t) => {
  await logged(t, 'bad-times', jsonLines(RECORDS));
  const r = await cli(store.root, ['logs', '--since', 'bogus', 'bad-times']);
  t.deepEqual([r.code, r.stdout, r.stderr], [1, '', 'nbox: invalid value for "since": failed to parse value as time or duration: "bogus"\n']);
  const until = await cli(store.root, ['logs', '--until', '2024-02-30', 'bad-times']);
  t.deepEqual([until.code, until.stderr], [1, 'nbox: invalid value for "until": parsing time "2024-02-30": day out of range\n']);
});

test('a container without a log prints nothing; an unknown one is an error', async (t) => {
  const container = await store.nbox.run('bb', { cmd: ['true'], name: 'no-log', stdio: 'ignore' });
  await container.exited;
  const r = await cli(store.root, ['logs', 'no-log']);
  t.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
  const ghost = await cli(store.root, ['logs', 'ghost']);
  t.deepEqual([ghost.code, ghost.stdout, ghost.stderr], [1, '', 'nbox: No such container: ghost\n']);
});

test('logs -f of a running container shows what is appended, and ends when the container stops', async (t) => {
  const container = await store.nbox.run('bb', { cmd: ['sh', '-c', 'echo ready; exec sleep 600'], name: 'followed', stdio: 'pipe' });
  t.teardown(async () => container[Symbol.asyncDispose]());
  await new Promise<void>((resolve) => container.stdout!.once('data', () => resolve()));
  const path = join(store.root, 'containers', container.id, `${container.id}-json.log`);
  await writeFile(path, jsonLines(RECORDS.slice(0, 1)));
  const follower = spawnCli(store.root, ['logs', '-f', 'followed']);
  let out = '';
  let waiting: (() => void) | null = null;
  follower.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    waiting?.();
  });
  const seen = (text: string) => new Promise<void>((resolve) => {
    waiting = () => out.includes(text) && resolve();
    waiting();
  });
  await seen('out one\n');
  await appendFile(path, jsonLines([RECORDS[2]]));
  await seen('out two\n');
  container.kill('SIGKILL');
  await container.exited;
  t.is(await exitCodeOf(follower), 0);
  t.is(out, 'out one\nout two\n');
});
