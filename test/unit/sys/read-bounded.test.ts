import test from 'ava';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBounded } from '../../../src/sys/read-bounded';

test('readBounded gives the whole file up to its limit, and null one byte past it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbox-bounded-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const read = (size: number, limit: number) => {
    writeFileSync(join(dir, 'f'), Buffer.alloc(size, 'a'));
    const fd = openSync(join(dir, 'f'), 'r');
    try {
      return readBounded(fd, limit);
    } finally {
      closeSync(fd);
    }
  };
  t.is(read(200_000, 200_000)?.length, 200_000);
  t.is(read(200_001, 200_000), null);
  t.is(read(0, 10)?.length, 0);
});
