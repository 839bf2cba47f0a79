// Looking at the first bytes of a stream (to tell a tar from gzip or a
// Dockerfile) without losing them.
import { Readable } from 'node:stream';

/** peekStream reads at least `bytes` (fewer at end of input) and returns them with a stream that replays everything. */
export async function peekStream(input: Readable, bytes: number): Promise<{ head: Buffer; replay: Readable }> {
  // Errors reach the reader through the replay; once the reader has given up
  // (its own stage failed first), a late error of the input must not go uncaught.
  input.on('error', () => undefined);
  const chunks = input[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  while (head.length < bytes) {
    const next = await chunks.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value as Buffer]);
  }
  const replay = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      // yield* forwards an early return to the input, which destroys it.
      yield* { [Symbol.asyncIterator]: () => chunks };
    })(),
    { objectMode: false },
  );
  return { head, replay };
}
