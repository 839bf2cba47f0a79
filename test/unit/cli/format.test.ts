import test from 'ava';
import { ellipsis, humanSize, shortId, table } from '../../../src/cli/format';
import { humanDuration, since } from '../../../src/runtime/status-text';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 365 * DAY;

test('table pads columns to max(10, widest + 3) and leaves the last column unpadded', (t) => {
  const output = table(
    ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
    [['4c01db0b339c', 'ubuntu:24.04', '"bash"', '17 seconds ago', 'Up 16 seconds', '', 'webapp']],
  );
  t.is(
    output,
    [
      'CONTAINER ID   IMAGE          COMMAND   CREATED          STATUS          PORTS     NAMES',
      '4c01db0b339c   ubuntu:24.04   "bash"    17 seconds ago   Up 16 seconds             webapp',
    ].join('\n'),
  );
});

test('table leaves no trailing spaces when the last cells are empty', (t) => {
  const output = table(['A', 'B'], [['x', '']]);
  t.is(output, 'A         B\nx');
  t.false(output.split('\n').some((line) => line.endsWith(' ')));
});

test('table measures cells in code points', (t) => {
  t.is(table(['NAME', 'X'], [['🐳', 'y']]), 'NAME      X\n🐳         y');
});

test('table with headers only prints the header line', (t) => {
  t.is(table(['REPOSITORY', 'TAG', 'IMAGE ID'], []), 'REPOSITORY   TAG       IMAGE ID');
});

// docker/go-units size_test.go TestHumanSize uses precision 4; these are the same
// inputs at Docker's table precision of 3, plus the sizes `docker images` shows.
const sizeCases: Array<[number, string]> = [
  [0, '0B'],
  [1, '1B'],
  [999, '999B'],
  [1000, '1kB'],
  [1024, '1.02kB'],
  [2048, '2.05kB'],
  [1000000, '1MB'],
  [1048576, '1.05MB'],
  [2 * 1000 * 1000, '2MB'],
  [1_888_000, '1.89MB'],
  [116_800_000, '117MB'],
  [3.42 * 1e9, '3.42GB'],
  [5.372 * 1e12, '5.37TB'],
  [2.22 * 1e15, '2.22PB'],
  [10000000000000 * 1e15, '1e+04YB'],
  // %g switches to exponent form once rounding reaches 1000 of a unit.
  [999_999, '1e+03kB'],
  // Exact ties round half to even, as Go's strconv does: 2.125 -> 2.12, 2.135 is not a tie.
  [2125, '2.12kB'],
  [2375, '2.38kB'],
];
test('humanSize matches Docker at precision 3', (t) => {
  for (const [bytes, expected] of sizeCases) t.is(humanSize(bytes), expected, `humanSize(${bytes})`);
});

test('humanSize at precision 4 is go-units HumanSize, as prune totals print', (t) => {
  const cases: Array<[number, string]> = [
    [0, '0B'], [1000, '1kB'], [1024, '1.024kB'], [1000000, '1MB'], [1048576, '1.049MB'],
    [2 * 1000 * 1000, '2MB'], [3.42 * 1e9, '3.42GB'], [5.372 * 1e12, '5.372TB'], [2.22 * 1e15, '2.22PB'],
  ];
  for (const [bytes, expected] of cases) t.is(humanSize(bytes, 4), expected, `humanSize(${bytes}, 4)`);
});

// docker/go-units duration_test.go TestHumanDuration, case for case.
const durationCases: Array<[number, string]> = [
  [450, 'Less than a second'],
  [1 * SECOND, '1 second'],
  [45 * SECOND, '45 seconds'],
  [46 * SECOND, '46 seconds'],
  [59 * SECOND, '59 seconds'],
  [60 * SECOND, 'About a minute'],
  [1 * MINUTE, 'About a minute'],
  [3 * MINUTE, '3 minutes'],
  [35 * MINUTE, '35 minutes'],
  [35 * MINUTE + 40 * SECOND, '35 minutes'],
  [45 * MINUTE, '45 minutes'],
  [45 * MINUTE + 40 * SECOND, '45 minutes'],
  [46 * MINUTE, '46 minutes'],
  [59 * MINUTE, '59 minutes'],
  [1 * HOUR, 'About an hour'],
  [1 * HOUR + 29 * MINUTE, 'About an hour'],
  [1 * HOUR + 31 * MINUTE, '2 hours'],
  [1 * HOUR + 59 * MINUTE, '2 hours'],
  [3 * HOUR, '3 hours'],
  [3 * HOUR + 29 * MINUTE, '3 hours'],
  [3 * HOUR + 31 * MINUTE, '4 hours'],
  [3 * HOUR + 59 * MINUTE, '4 hours'],
  [3 * HOUR + 60 * MINUTE, '4 hours'],
  [24 * HOUR, '24 hours'],
  [1 * DAY + 12 * HOUR, '36 hours'],
  [2 * DAY, '2 days'],
  [7 * DAY, '7 days'],
  [13 * DAY + 5 * HOUR, '13 days'],
  [2 * WEEK, '2 weeks'],
  [2 * WEEK + 4 * DAY, '2 weeks'],
  [3 * WEEK, '3 weeks'],
  [4 * WEEK, '4 weeks'],
  [4 * WEEK + 3 * DAY, '4 weeks'],
  [1 * MONTH, '4 weeks'],
  [1 * MONTH + 2 * WEEK, '6 weeks'],
  [2 * MONTH, '2 months'],
  [2 * MONTH + 2 * WEEK, '2 months'],
  [3 * MONTH, '3 months'],
  [3 * MONTH + 1 * WEEK, '3 months'],
  [5 * MONTH + 2 * WEEK, '5 months'],
  [13 * MONTH, '13 months'],
  [23 * MONTH, '23 months'],
  [24 * MONTH, '24 months'],
  [24 * MONTH + 2 * WEEK, '2 years'],
  [3 * YEAR + 2 * MONTH, '3 years'],
];
test('humanDuration matches go-units', (t) => {
  for (const [ms, expected] of durationCases) t.is(humanDuration(ms), expected, `humanDuration(${ms})`);
});

test('humanDuration treats a negative span (clock skew) as less than a second', (t) => {
  t.is(humanDuration(-5 * MINUTE), 'Less than a second');
});

test('since appends "ago" to the span up to now', (t) => {
  const now = new Date('2024-05-01T12:00:00Z');
  t.is(since(new Date('2024-05-01T11:57:00Z'), now), '3 minutes ago');
  t.is(since(new Date('2024-04-29T12:00:00Z'), now), '2 days ago');
});

test('shortId drops the algorithm and keeps 12 characters', (t) => {
  const hex = 'f3b8a9c6d2e14b7a90c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3';
  t.is(shortId(`sha256:${hex}`), 'f3b8a9c6d2e1');
  t.is(shortId(hex), 'f3b8a9c6d2e1');
  t.is(shortId('abc'), 'abc');
});

// docker/cli formatter/displayutils_test.go TestEllipsis, then our own cases.
const ellipsisCases: Array<[string, number, string]> = [
  ['t🐳ststring', 0, ''],
  ['t🐳ststring', 1, 't'],
  ['t🐳ststring', 2, 't…'],
  ['t🐳ststring', 6, 't🐳st…'],
  ['t🐳ststring', 20, 't🐳ststring'],
  ['你好世界teststring', 0, ''],
  ['你好世界teststring', 1, '你'],
  ['你好世界teststring', 3, '你…'],
  ['你好世界teststring', 6, '你好…'],
  ['你好世界teststring', 20, '你好世界teststring'],
  ['test🐳string', 8, 'test🐳s…'],
  ['test🐳string', 11, 'test🐳stri…'],
  ['test🐳string', 12, 'test🐳string'],
  ['/docker-entrypoint.sh nginx -g daemon off;', 20, '/docker-entrypoint.…'],
  ['', 5, ''],
];
test('ellipsis matches Docker, counting wide runes as two columns', (t) => {
  for (const [text, width, expected] of ellipsisCases) t.is(ellipsis(text, width), expected, `ellipsis(${JSON.stringify(text)}, ${width})`);
});
