import test from 'ava';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { fixedNanoTime, parseRecord, readLog, type LogEntry, type LogOptions, type LogSource } from '../../../src/runtime/logs';

// record is one line as moby's json-file driver writes it (Go's encoder: the same field order, compact).
function record(stream: 'stdout' | 'stderr', log: string, second: number, fraction = ''): string {
  const time = `2024-05-06T07:08:${String(second).padStart(2, '0')}${fraction}Z`;
  return `${JSON.stringify({ log, stream, time })}\n`;
}

async function withLog(t: { teardown(fn: () => Promise<void>): void }, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-logs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'c-json.log');
  await writeFile(path, text);
  return path;
}

async function collect(source: LogSource, options: LogOptions = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const entry of readLog(source, options)) out.push(entry);
  return out;
}

const stopped = { running: async () => false };
const lines = (entries: LogEntry[]) => entries.map((e) => `${e.stream}:${e.line}${e.partial ? '<partial>' : ''}`);

test('records parse by position and by JSON.parse alike, escapes and all', (t) => {
  const cases = ['plain', 'quote " and backslash \\', 'tab\tand \u0001 control', 'ünïcødé ✓ 🐳', 'ends with backslash n \\n', '<html>&amp;', ''];
  for (const log of cases) {
    for (const ending of ['\n', '']) {
      const text = record('stderr', log + ending, 1, '.5');
      t.deepEqual(parseRecord(text, 0, text.length - 1), { stream: 'stderr', time: '2024-05-06T07:08:01.5Z', line: log, complete: ending === '\n' }, JSON.stringify(log + ending));
    }
  }
  // Go escapes <, > and & as \u003c...; another field order or extra attrs take the JSON.parse path.
  const go = '{"log":"\\u003cb\\u003e\\n","stream":"stdout","time":"2024-05-06T07:08:01Z"}';
  t.is(parseRecord(go, 0, go.length)?.line, '<b>');
  const attrs = '{"log":"x\\n","stream":"stdout","time":"2024-05-06T07:08:01Z","attrs":{"a":"b"}}';
  t.deepEqual(parseRecord(attrs, 0, attrs.length), { stream: 'stdout', time: '2024-05-06T07:08:01Z', line: 'x', complete: true });
  for (const bad of ['not json', '{"log":1,"stream":"stdout","time":"x"}', '{"log":"x","stream":"stdin","time":"2024-05-06T07:08:01Z"}']) {
    t.is(parseRecord(bad, 0, bad.length), null, bad);
  }
});

test('stdout and stderr records come in order, apart, and a corrupt line is skipped', async (t) => {
  const path = await withLog(t, record('stdout', 'one\n', 1) + record('stderr', 'two\n', 2) + 'garbage{\n' + record('stdout', 'three\n', 3));
  t.deepEqual(lines(await collect({ path, ...stopped })), ['stdout:one', 'stderr:two', 'stdout:three']);
});

test('a missing log file is an empty log', async (t) => {
  t.deepEqual(await collect({ path: '/nonexistent/nbox/c-json.log', ...stopped }), []);
});

test('partial records of a long line are joined per stream, under the time of the first', async (t) => {
  const long = 'x'.repeat(16384);
  const text = record('stdout', long, 1) + record('stderr', 'between\n', 2) + record('stdout', long, 3) + record('stdout', 'end\n', 4)
    + record('stderr', 'no newline at exit', 5);
  const entries = await collect({ path: await withLog(t, text), ...stopped });
  t.deepEqual(entries.map((e) => [e.stream, e.line.length, e.time.slice(17, 19), e.partial ?? false]), [
    ['stderr', 7, '02', false],
    ['stdout', 2 * 16384 + 3, '01', false],
    ['stderr', 18, '05', true],
  ]);
});

test('a torn last line (a record being written) is not shown', async (t) => {
  const path = await withLog(t, record('stdout', 'whole\n', 1) + '{"log":"half a rec');
  t.deepEqual(lines(await collect({ path, ...stopped })), ['stdout:whole']);
  t.deepEqual(lines(await collect({ path, ...stopped }, { tail: 1 })), ['stdout:whole']);
});

test('--tail reads the last records backwards, across chunk boundaries', async (t) => {
  let text = '';
  for (let i = 0; i < 500; i++) text += record(i % 3 ? 'stdout' : 'stderr', `line ${i} ${'y'.repeat(i % 37)}\n`, i % 60);
  const path = await withLog(t, text);
  const all = await collect({ path, ...stopped });
  t.is(all.length, 500);
  t.deepEqual(await collect({ path, ...stopped }, { tail: 'all' }), all);
  for (const chunkSize of [64, 97, 1000, 1 << 20]) {
    for (const tail of [0, 1, 2, 7, 499, 500, 501]) {
      const got = await collect({ path, chunkSize, ...stopped }, { tail });
      t.deepEqual(got, all.slice(Math.max(0, 500 - tail)), `chunk ${chunkSize} tail ${tail}`);
    }
  }
  // A record longer than the read chunk grows the buffer.
  const long = await withLog(t, record('stdout', `${'z'.repeat(5000)}\n`, 1) + record('stdout', 'after\n', 2));
  t.deepEqual((await collect({ path: long, chunkSize: 64, ...stopped })).map((e) => e.line.length), [5000, 5]);
});

test('since and until keep the records in between, to the nanosecond', async (t) => {
  const path = await withLog(t, record('stdout', 'a\n', 1) + record('stdout', 'b\n', 2, '.000000001') + record('stdout', 'c\n', 3) + record('stdout', 'd\n', 4, '.5'));
  const at = (s: number, ms = 0) => new Date(Date.UTC(2024, 4, 6, 7, 8, s, ms));
  t.deepEqual(lines(await collect({ path, ...stopped }, { since: at(2) })), ['stdout:b', 'stdout:c', 'stdout:d']);
  t.deepEqual(lines(await collect({ path, ...stopped }, { until: at(2) })), ['stdout:a']);
  t.deepEqual(lines(await collect({ path, ...stopped }, { since: at(2, 1), until: at(4, 500) })), ['stdout:c', 'stdout:d']);
  // tail applies first, then since, as Docker's reader.
  t.deepEqual(lines(await collect({ path, ...stopped }, { tail: 2, since: at(1) })), ['stdout:c', 'stdout:d']);
});

test('timestamps prefix the time with nine fractional digits, as docker logs -t', async (t) => {
  t.is(fixedNanoTime('2024-05-06T07:08:09Z'), '2024-05-06T07:08:09.000000000Z');
  t.is(fixedNanoTime('2024-05-06T07:08:09.12Z'), '2024-05-06T07:08:09.120000000Z');
  t.is(fixedNanoTime('2024-05-06T07:08:09.123456789+02:00'), '2024-05-06T07:08:09.123456789+02:00');
  const path = await withLog(t, record('stdout', 'hi\n', 9, '.25'));
  t.deepEqual(lines(await collect({ path, ...stopped }, { timestamps: true })), ['stdout:2024-05-06T07:08:09.250000000Z hi']);
});

test('follow reads what is appended, completes a torn line, and ends when the container stops', async (t) => {
  const path = await withLog(t, record('stdout', 'first\n', 1));
  let running = true;
  let checks = 0;
  const source: LogSource = {
    path,
    pollInterval: 20,
    running: async () => {
      checks++;
      return running;
    },
  };
  const seen: string[] = [];
  const done = (async () => {
    for await (const entry of readLog(source, { follow: true })) {
      seen.push(entry.line);
      if (entry.line === 'first') await appendFile(path, record('stderr', 'second\n', 2) + '{"log":"thi');
      if (entry.line === 'second') {
        await appendFile(path, 'rd\\n","stream":"stdout","time":"2024-05-06T07:08:03Z"}\n');
      }
      if (entry.line === 'third') {
        // Written just before it stopped: still shown.
        await appendFile(path, record('stdout', 'last words', 4));
        running = false;
      }
    }
  })();
  await done;
  t.deepEqual(seen, ['first', 'second', 'third', 'last words']);
  // Its end came from asking whether the container runs, which a read that has more to give never asks.
  t.true(checks >= 1);
});

test('follow asks whether the container runs only once a read has given all there is: a wait for a line already written asks nothing', async (t) => {
  const path = await withLog(t, record('stdout', 'ready\n', 1));
  let checks = 0;
  const source: LogSource = { path, running: async () => (checks++, true) };
  for await (const entry of readLog(source, { follow: true })) {
    if (entry.line === 'ready') break;
  }
  t.is(checks, 0);
});

test('follow of a log not yet written waits for it, and of a stopped container ends', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-logs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'c-json.log');
  t.deepEqual(await collect({ path, ...stopped }, { follow: true }), []);
  let running = true;
  const source: LogSource = {
    path,
    pollInterval: 20,
    running: async () => running,
  };
  setTimeout(() => void writeFile(path, record('stdout', 'late\n', 1)).then(() => (running = false)), 30);
  t.deepEqual(lines(await collect(source, { follow: true })), ['stdout:late']);
});

test('an aborted follow of a quiet log ends at once and closes the file, the container still running', async (t) => {
  // Without the signal it would sleep out its (hour-long) poll: the suite's timeout turns that hang into a failure.
  const path = await withLog(t, record('stdout', 'only\n', 1));
  const abort = new AbortController();
  const source: LogSource = { path, pollInterval: 3_600_000, running: async () => true };
  const entries = readLog(source, { follow: true, signal: abort.signal });
  t.is((await entries.next()).value?.line, 'only');
  const next = entries.next();
  abort.abort();
  t.true((await next).done);
});

test('UTF-8 text and escapes read the same whatever the chunk (ASCII chunks take a faster decoder)', async (t) => {
  const texts = ['plain ascii', 'ünïcødé ✓', '🐳 whale', 'escaped \u2028 and \ufffd', 'tab\there', 'x'.repeat(70)];
  const path = await withLog(t, texts.map((text, i) => record('stdout', `${text}\n`, i)).join(''));
  for (const chunkSize of [48, 100, 1 << 20]) {
    t.deepEqual((await collect({ path, chunkSize, ...stopped })).map((e) => e.line), texts, `chunk ${chunkSize}`);
  }
});

test('a rotated log (max-size, max-file) reads oldest first, <log>.2, <log>.1, then the log; a tail reaches back across the files', async (t) => {
  const path = await withLog(t, record('stdout', 'five\n', 5) + record('stdout', 'six\n', 6));
  await writeFile(`${path}.1`, record('stdout', 'three\n', 3) + record('stderr', 'four\n', 4));
  await writeFile(`${path}.2`, record('stdout', 'one\n', 1) + record('stdout', 'two\n', 2));
  const source = { path, ...stopped, chunkSize: 48 };
  t.deepEqual(lines(await collect(source)), ['stdout:one', 'stdout:two', 'stdout:three', 'stderr:four', 'stdout:five', 'stdout:six']);
  t.deepEqual(lines(await collect(source, { tail: 3 })), ['stderr:four', 'stdout:five', 'stdout:six']);
  t.deepEqual(lines(await collect(source, { tail: 5 })), ['stdout:two', 'stdout:three', 'stderr:four', 'stdout:five', 'stdout:six']);
  t.deepEqual(lines(await collect(source, { tail: 2 })), ['stdout:five', 'stdout:six']);
  t.deepEqual(lines(await collect(source, { tail: 0 })), []);
  t.deepEqual(lines(await collect(source, { tail: 99 })).length, 6);
});

test('follow goes on into the new log when the one it reads is rotated away', async (t) => {
  const path = await withLog(t, record('stdout', 'before\n', 1));
  let running = true;
  const source: LogSource = { path, pollInterval: 20, running: async () => running };
  const seen: string[] = [];
  const following = (async () => {
    for await (const entry of readLog(source, { follow: true })) seen.push(entry.line);
  })();
  const until = async (count: number) => {
    while (seen.length < count) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  await until(1);
  // As the monitor rotates: the log becomes <log>.1, a new log takes its name.
  await appendFile(path, record('stdout', 'last of the old\n', 2));
  const { rename } = await import('node:fs/promises');
  await rename(path, `${path}.1`);
  await writeFile(path, record('stdout', 'first of the new\n', 3));
  await until(3);
  // Written before the container is seen stopped, as a monitor writes the last output before the exit.
  await appendFile(path, record('stdout', 'at the end\n', 4));
  running = false;
  await following;
  t.deepEqual(seen, ['before', 'last of the old', 'first of the new', 'at the end']);
});

test('a line that never ends goes out in pieces of at most 1 MiB, the lines around it whole', async (t) => {
  // 16 KiB partial records, 3 MiB in all without a newline, between two whole lines: joined whole, such a
  // line outgrows a string (the reviewer's 560 MB one hid the whole log).
  const piece = 'x'.repeat(16 * 1024);
  const text = [record('stdout', 'before\n', 1), ...Array.from({ length: 192 }, () => record('stdout', piece, 2)), record('stdout', 'end\n', 3), record('stdout', 'after\n', 4)].join('');
  const path = await withLog(t, text);
  const entries = await collect({ path, ...stopped });
  t.deepEqual(entries.map((e) => e.line.length), [6, 1 << 20, 1 << 20, 1 << 20, 3, 5]);
  t.deepEqual(entries.map((e) => e.partial ?? false), [false, true, true, true, false, false]);
  t.is(entries.slice(1, 5).map((e) => e.line).join(''), `${piece.repeat(192)}end`);
});
