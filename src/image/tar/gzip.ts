// Gzip on several cores, as pigz does: the input is cut into blocks that are
// deflated in parallel on libuv's thread pool (4 threads unless
// UV_THREADPOOL_SIZE says more), each primed with the 32 KiB before it and
// ended with a sync flush, so their concatenation is one valid deflate
// stream; the CRC is chained in order. The output is a single gzip member
// that any gzip reader takes.
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw, type ZlibOptions } from 'node:zlib';

const deflateRawAsync = promisify<Buffer, ZlibOptions, Buffer>(deflateRaw);
const BLOCK_SIZE = 1 << 20;
const WINDOW = 32 << 10;
// Fixed header: magic, deflate, no flags, no mtime (reproducible output), no extra flags, OS unknown.
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
// An empty final block (fixed Huffman, just end-of-block) ends the deflate stream after the sync-flushed blocks.
const FINAL_BLOCK = Buffer.from([3, 0]);

// A block whose sample does not shrink is stored (level 0): deflating random
// or already compressed data costs many times the copy and saves nothing.
const SAMPLE_SIZE = 16 << 10;
const INCOMPRESSIBLE = 0.97;

async function deflateBlock(block: Buffer, level: number, dictionary: Buffer | undefined): Promise<Buffer> {
  const options: ZlibOptions = { level, finishFlush: constants.Z_SYNC_FLUSH, ...(dictionary ? { dictionary } : {}) };
  if (block.length > SAMPLE_SIZE) {
    const sample = await deflateRawAsync(block.subarray(0, SAMPLE_SIZE), { level: 1, finishFlush: constants.Z_SYNC_FLUSH });
    if (sample.length > SAMPLE_SIZE * INCOMPRESSIBLE) options.level = 0;
  }
  return deflateRawAsync(block, options);
}

/** GzipOptions tune parallelGzip: zlib level (1 is fast, 9 small) and how many blocks deflate at once. */
export interface GzipOptions {
  level?: number;
  parallel?: number;
}

/** parallelGzip compresses a byte stream with every core; the same input and level give the same bytes. */
export async function* parallelGzip(input: AsyncIterable<Buffer>, options: GzipOptions = {}): AsyncGenerator<Buffer> {
  const level = options.level ?? 6;
  const parallel = options.parallel ?? availableParallelism() + 1;
  const pending: Array<Promise<Buffer>> = [];
  let crc = 0;
  let length = 0;
  let previous: Buffer | undefined;
  const start = (block: Buffer) => {
    crc = crc32(block, crc);
    length = (length + block.length) % 2 ** 32;
    const dictionary = previous?.subarray(Math.max(0, previous.length - WINDOW));
    const deflated = deflateBlock(block, level, dictionary);
    // Awaited in order below; this keeps a failure of a later block from being reported as unhandled meanwhile.
    deflated.catch(() => undefined);
    pending.push(deflated);
    previous = block;
  };

  yield HEADER;
  let buffered: Buffer[] = [];
  let bufferedLength = 0;
  for await (const chunk of input) {
    // A large chunk is cut into blocks in place: concatenating its rest again per block would be quadratic.
    for (let offset = 0; offset < chunk.length; ) {
      const take = Math.min(BLOCK_SIZE - bufferedLength, chunk.length - offset);
      buffered.push(chunk.subarray(offset, offset + take));
      bufferedLength += take;
      offset += take;
      if (bufferedLength < BLOCK_SIZE) continue;
      start(buffered.length === 1 ? buffered[0] : Buffer.concat(buffered, bufferedLength));
      buffered = [];
      bufferedLength = 0;
      if (pending.length >= parallel) yield await pending.shift()!;
    }
  }
  if (bufferedLength > 0) start(Buffer.concat(buffered, bufferedLength));
  while (pending.length > 0) yield await pending.shift()!;
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length, 4);
  yield Buffer.concat([FINAL_BLOCK, trailer]);
}
