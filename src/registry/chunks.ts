// Reads a stream in consecutive pieces of exact sizes, each itself a stream,
// so a large blob is uploaded in chunks without holding a chunk in memory.
import { Readable } from 'node:stream';
import { NboxError } from '../errors';

/** ChunkReader hands out a source stream's bytes as consecutive chunks of given sizes. */
export class ChunkReader {
  private readonly pieces: AsyncIterator<Buffer>;
  private leftover: Buffer | undefined;
  private consumed = 0;

  /** source is read as a stream of Buffers; subject names it in errors. */
  constructor(
    private readonly source: Readable,
    private readonly subject: string,
  ) {
    this.pieces = source[Symbol.asyncIterator]();
  }

  /** chunk is a stream of exactly the next size bytes; it fails if the source ends first. Read one chunk before asking for the next. */
  chunk(size: number): Readable {
    return Readable.from(this.take(size), { objectMode: false });
  }

  /** assertEnd fails if the source has bytes left. */
  async assertEnd(): Promise<void> {
    if (this.leftover?.length || !(await this.pieces.next()).done) {
      throw new NboxError('ERR_NBOX_REGISTRY', `${this.subject}: the source is longer than the ${this.consumed} bytes expected`);
    }
  }

  /** close releases the source. */
  close(): void {
    this.source.destroy();
  }

  private async *take(size: number): AsyncGenerator<Buffer> {
    for (let remaining = size; remaining > 0; ) {
      let piece = this.leftover ?? (await this.next());
      this.leftover = undefined;
      if (piece.length > remaining) {
        this.leftover = piece.subarray(remaining);
        piece = piece.subarray(0, remaining);
      }
      remaining -= piece.length;
      this.consumed += piece.length;
      yield piece;
    }
  }

  private async next(): Promise<Buffer> {
    const { value, done } = await this.pieces.next();
    if (done) throw new NboxError('ERR_NBOX_REGISTRY', `${this.subject}: the source ended after ${this.consumed} bytes`);
    return Buffer.isBuffer(value) ? value : Buffer.from(value);
  }
}
