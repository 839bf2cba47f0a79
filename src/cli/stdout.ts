// nbox's standard output. Node makes process.stdout on first use, loading
// node:stream and more: 2 ms and up, which a verb printing a line or a table
// need not spend. writeOut writes straight to fd 1 until something makes the
// stream (a stream's output, a pipeline), then through it, so the order holds.
import { writeSync } from 'node:fs';

/** EXIT_SIGPIPE is the shell's code for a process that SIGPIPE ended, as Docker's CLI ends when its reader goes. */
export const EXIT_SIGPIPE = 141;

// Direct writes are safe only while whenStdoutMade watches for the stream and has not seen it made.
let direct = false;

/** whenStdoutMade calls made with process.stdout once something first uses it. */
export function whenStdoutMade(made: (stdout: NodeJS.WriteStream) => void): void {
  const lazy = Object.getOwnPropertyDescriptor(process, 'stdout');
  if (!lazy?.get || !lazy.configurable) {
    made(process.stdout);
    return;
  }
  const nodeGetter = lazy.get;
  direct = true;
  Object.defineProperty(process, 'stdout', {
    configurable: true,
    enumerable: lazy.enumerable,
    get() {
      // Node's getter keeps the stream it made: later reads go straight to it.
      Object.defineProperty(process, 'stdout', lazy);
      const stdout = nodeGetter.call(process) as NodeJS.WriteStream;
      direct = false;
      made(stdout);
      return stdout;
    },
  });
}

/** writeOut writes text to standard output: to fd 1 itself while no stream
 * is made, else through process.stdout. A reader that went away ends nbox
 * with EXIT_SIGPIPE; a non-blocking fd that is full takes the rest through
 * the stream, which waits for it. */
export function writeOut(text: string): void {
  if (!direct) {
    process.stdout.write(text);
    return;
  }
  let rest = Buffer.from(text);
  try {
    while (rest.length > 0) rest = rest.subarray(writeSync(1, rest));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') process.exit(EXIT_SIGPIPE);
    if (code !== 'EAGAIN') throw err;
    process.stdout.write(rest);
  }
}
