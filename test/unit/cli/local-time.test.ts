import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const MODULE = join(__dirname, '../../../src/cli/local-time.js');

// Formats the instants under TZ in a fresh node: the zone is read once per process, as Go reads it.
function formatted(tz: string | undefined, instants: string[]): string[] {
  const env = { ...process.env };
  if (tz === undefined) delete env.TZ;
  else env.TZ = tz;
  const script = `const m = require(${JSON.stringify(MODULE)}); for (const at of ${JSON.stringify(instants)}) console.log(m.goTimeString(new Date(at)) + ' | ' + m.rfc3339Local(new Date(at)));`;
  const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
  return r.stdout.trim().split('\n');
}

const WINTER = '2026-12-06T00:13:46.789Z';
const SUMMER = '2026-07-01T12:00:00Z';

test("CreatedAt is Go's String() and RFC 3339 in the local zone, named as tzdata names it", (t) => {
  t.deepEqual(formatted('Europe/Berlin', [WINTER, SUMMER]), [
    '2026-12-06 01:13:46 +0100 CET | 2026-12-06T01:13:46+01:00',
    '2026-07-01 14:00:00 +0200 CEST | 2026-07-01T14:00:00+02:00',
  ]);
  t.deepEqual(formatted('America/New_York', [WINTER, SUMMER]), [
    '2026-12-05 19:13:46 -0500 EST | 2026-12-05T19:13:46-05:00',
    '2026-07-01 08:00:00 -0400 EDT | 2026-07-01T08:00:00-04:00',
  ]);
  t.deepEqual(formatted('Asia/Kolkata', [WINTER]), ['2026-12-06 05:43:46 +0530 IST | 2026-12-06T05:43:46+05:30']);
  t.deepEqual(formatted('America/Sao_Paulo', [WINTER]), ['2026-12-05 21:13:46 -0300 -03 | 2026-12-05T21:13:46-03:00']);
});

test('UTC, by TZ or by an empty TZ, prints +0000 UTC and Z', (t) => {
  for (const tz of ['UTC', '', 'Etc/UTC']) t.deepEqual(formatted(tz, [WINTER]), ['2026-12-06 00:13:46 +0000 UTC | 2026-12-06T00:13:46Z'], tz);
});

test('a zone with no tzdata file keeps its offset and names it by the offset', (t) => {
  t.deepEqual(formatted('Nowhere/Atlantis', [WINTER]), ['2026-12-06 00:13:46 +0000 UTC | 2026-12-06T00:13:46Z']);
});
