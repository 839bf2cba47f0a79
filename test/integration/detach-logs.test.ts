// The json-file log a `run -d` container's monitor writes: Docker's records,
// byte for byte, read here from the file itself (the `logs` reader is separate).
import type { ExecutionContext } from 'ava';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { cli, rootTest, sharedTestStore } from '../helpers/env';
import { runDetached } from '../helpers/detached';

const test = rootTest();
const store = sharedTestStore(test);

// Go's RFC3339Nano in UTC: the fraction's trailing zeros trimmed.
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/;

interface Record {
  raw: string;
  log: string;
  stream: string;
  time: string;
}

/** logOf runs a shell script under -d, waits for its end and reads its log's records. */
async function logOf(t: ExecutionContext, script: string): Promise<{ text: string; records: Record[] }> {
  const id = await runDetached(t, store.root, ['bb', 'sh', '-c', script]);
  const waited = await cli(store.root, ['wait', id]);
  t.deepEqual([waited.code, waited.stdout], [0, '0\n']);
  const text = readFileSync(join(store.root, 'containers', id, `${id}-json.log`), 'utf8');
  t.true(text.endsWith('\n'));
  const records = text.slice(0, -1).split('\n').map((raw) => ({ raw, ...(JSON.parse(raw) as Omit<Record, 'raw'>) }));
  for (const record of records) {
    t.regex(record.time, TIME);
    t.false(Number.isNaN(Date.parse(record.time)));
    // moby's field order, no spaces.
    t.regex(record.raw, /^\{"log":"(?:[^"\\]|\\.)*","stream":"(?:stdout|stderr)","time":"[^"]+"\}$/);
  }
  return { text, records };
}

test('one record per line and stream, the last unterminated line drained at exit', async (t) => {
  const { records } = await logOf(t, 'echo out; echo err >&2; printf tail');
  const of = (stream: string) => records.filter((r) => r.stream === stream).map((r) => r.raw.replace(/"time":"[^"]*"/, '"time":"T"'));
  t.deepEqual(of('stdout'), ['{"log":"out\\n","stream":"stdout","time":"T"}', '{"log":"tail","stream":"stdout","time":"T"}']);
  t.deepEqual(of('stderr'), ['{"log":"err\\n","stream":"stderr","time":"T"}']);
  t.is(records.length, 3);
});

test('a 40000-byte line: records of 16384, 16384 and 7232 bytes and its newline, under the first one\'s time', async (t) => {
  const { records } = await logOf(t, "head -c 40000 /dev/zero | tr '\\0' a; echo");
  t.deepEqual(records.map((r) => r.log.length), [16384, 16384, 7233]);
  t.deepEqual(records.map((r) => r.log.endsWith('\n')), [false, false, true]);
  t.true(records.every((r) => /^a*\n?$/.test(r.log) && r.stream === 'stdout'));
  t.deepEqual(new Set(records.map((r) => r.time)).size, 1);
});

test('control bytes, <>&, quotes, invalid UTF-8 and U+2028 are escaped as moby escapes them', async (t) => {
  // \001 TAB " \ < > & CR, a stray byte, an overlong NUL, a surrogate, U+2028, U+2029, é and a cut sequence.
  const { records } = await logOf(t, String.raw`printf '\001\t"\\<>&\r\377\300\200\355\240\200\342\200\250\342\200\251\303\251\342\200\n'`);
  t.is(records.length, 1);
  t.is(records[0].raw.slice(0, records[0].raw.indexOf(',"stream"')),
    String.raw`{"log":"\u0001\u0009\"\\\u003c\u003e\u0026\r\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\u2028\u2029é\ufffd\ufffd\n"`);
});

test('--log-driver none keeps no log: logs says the driver does not support reading; inspect shows the LogConfig', async (t) => {
  const id = await runDetached(t, store.root, ['--log-driver', 'none', 'bb', 'sh', '-c', 'echo unseen']);
  t.is((await cli(store.root, ['wait', id])).stdout, '0\n');
  t.false(existsSync(join(store.root, 'containers', id, `${id}-json.log`)));
  const logs = await cli(store.root, ['logs', id]);
  t.deepEqual([logs.code, logs.stdout, logs.stderr], [1, '', 'nbox: configured logging driver does not support reading\n']);
  t.is((await cli(store.root, ['inspect', '-f', '{{json .HostConfig.LogConfig}}', id])).stdout, '{"Type":"none","Config":{}}\n');
  const plain = await runDetached(t, store.root, ['bb', 'true']);
  t.is((await cli(store.root, ['inspect', '-f', '{{json .HostConfig.LogConfig}}', plain])).stdout, '{"Type":"json-file","Config":{}}\n');
});

test("another --log-driver, or a --log-opt nbox's log cannot honour: one line, exit 125, nothing created", async (t) => {
  const cases: [string[], string][] = [
    [['--log-driver', 'syslog'], "logger: no log driver named 'syslog' is registered"],
    [['--log-opt', 'nope=1'], "unknown log opt 'nope' for json-file log driver"],
    [['--log-opt', 'compress=true'], "log opt 'compress' is not supported: nbox's json-file log is not compressed nor tagged"],
    [['--log-opt', 'max-size=10x'], "invalid size: '10x'"],
    [['--log-opt', 'max-size=0'], 'max-size must be a positive number'],
    [['--log-opt', 'max-size=1m', '--log-opt', 'max-file=0'], 'max-file cannot be less than 1'],
  ];
  for (const [flags, message] of cases) {
    const r = await cli(store.root, ['run', '-d', '--name', 'badlog', ...flags, 'bb', 'true']);
    t.deepEqual([r.code, r.stderr], [125, `nbox: ${message}\n`], flags.join(' '));
  }
  t.is((await cli(store.root, ['ps', '-a', '-q', '-f', 'name=badlog'])).stdout, '');
});

test('--log-opt max-size and max-file: the monitor rotates the log as moby does, and logs reads the files in order', async (t) => {
  // Records of about 90 bytes: 2000 lines are about 180 kB, rotated past 10 kB into at most 3 files.
  const id = await runDetached(t, store.root, ['--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'bb', 'sh', '-c',
    'i=1; while [ $i -le 2000 ]; do echo "line $i of the rotated log"; i=$((i+1)); done']);
  t.is((await cli(store.root, ['wait', id])).stdout, '0\n');
  const dir = join(store.root, 'containers', id);
  const files = readdirSync(dir).filter((name) => name.startsWith(`${id}-json.log`)).sort();
  t.deepEqual(files, [`${id}-json.log`, `${id}-json.log.1`, `${id}-json.log.2`]);
  // Rotated before the record that finds the file at its limit: a file holds at most one record past it.
  for (const name of files) t.true(statSync(join(dir, name)).size < 10_000 + 100, name);
  const logs = await cli(store.root, ['logs', id]);
  const numbers = logs.stdout.trim().split('\n').map((line) => Number(/^line (\d+) of the rotated log$/.exec(line)?.[1]));
  t.is(numbers.at(-1), 2000);
  t.true(numbers.length > 200 && numbers.length < 400, String(numbers.length));
  t.deepEqual(numbers, numbers.map((_, index) => numbers[0] + index), 'consecutive, oldest first');
  // The current file holds from none to about 105 records: a tail of 150 reaches back into the rotated ones.
  const tail = await cli(store.root, ['logs', '--tail', '150', id]);
  t.deepEqual(tail.stdout.trim().split('\n'), logs.stdout.trim().split('\n').slice(-150));
  t.is((await cli(store.root, ['inspect', '-f', '{{json .HostConfig.LogConfig}}', id])).stdout, '{"Type":"json-file","Config":{"max-file":"3","max-size":"10k"}}\n');
});
