// A stream copied to standard output. stream.pipeline destroys every stream of
// the line with the first one's error: process.stdout then emits that error,
// which its listener (cli.ts) takes for a failed write of its own. Here
// process.stdout is only ever written, and the source's failure rejects, for
// the verb to report on one line.
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** pipeToStdout copies data to standard output, waiting for it to take each chunk. */
export function pipeToStdout(data: Readable): Promise<void> {
  const stdout = process.stdout;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (stdout.write(chunk)) done();
      else stdout.once('drain', () => done());
    },
  });
  return pipeline(data, sink);
}
