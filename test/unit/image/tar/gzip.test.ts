import test from 'ava';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { parallelGzip } from '../../../../src/image/tar/gzip';

async function gzipAll(chunks: Buffer[], level?: number): Promise<Buffer> {
  async function* input() {
    yield* chunks;
  }
  const parts: Buffer[] = [];
  for await (const part of parallelGzip(input(), { level })) parts.push(part);
  return Buffer.concat(parts);
}

test('parallel gzip output is one gzip member any reader takes, for text and random blocks', async (t) => {
  const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(100000));
  const random = randomBytes(3 << 20);
  const input = [text.subarray(0, 12345), text.subarray(12345), random, Buffer.alloc(0), text.subarray(0, 777)];
  const all = Buffer.concat(input);
  const gz = await gzipAll(input);
  t.true(gunzipSync(gz).equals(all));
  t.true(gz.length < text.length / 50 + random.length + 4096, 'text is compressed and random data stored, not inflated');
  t.true((await gzipAll(input)).equals(gz), 'the same input gives the same bytes');
});

test('empty input gives a valid empty gzip', async (t) => {
  t.is(gunzipSync(await gzipAll([])).length, 0);
});
