// A container never holds the caller's terminal or one of its files: through
// them it could push keystrokes into the user's shell (TIOCSTI) or chmod the
// file through /proc/self/fd. Pipes and sockets pass through as they are (all
// a container can do to one is read or write it); anything else is swapped
// for a pipe that nbox copies, as podman and `runc run` do.
import { closeSync, fstatSync, readlinkSync, readSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';

import { addon, type Addon } from '../sys/addon';

/** GuardedStdio is the fds to give the container and the copying behind them. */
export interface GuardedStdio {
  childFds: [number, number, number];
  /** Call once the child has its copies: closes nbox's copies of the child's ends and starts copying. */
  started(): void;
  /** Resolves once the container's output is all copied out (after its last writer is gone). */
  drained(): Promise<void>;
  /** Stops copying input and closes everything (after exit, or when the start failed). */
  close(): void;
}

// The child opens its own /dev/null for this: nothing to copy.
const CONTAINER_DEV_NULL = -1;

/** guardStdio replaces each of the caller's fds that is not a pipe or socket by a pipe. */
export function guardStdio(fds: [number, number, number], sys: Pick<Addon, 'pipe'> = addon()): GuardedStdio {
  const childFds: [number, number, number] = [...fds];
  const childEnds: number[] = [];
  const copies: Array<() => Promise<void>> = [];
  const stops: Array<() => void> = [];
  fds.forEach((fd, index) => {
    if (passesThrough(fd)) return;
    if (isDevNull(fd)) {
      childFds[index] = CONTAINER_DEV_NULL;
      return;
    }
    const [readEnd, writeEnd] = sys.pipe();
    if (index === 0) {
      childFds[0] = readEnd;
      childEnds.push(readEnd);
      copies.push(() => copyIn(fd, writeEnd, stops));
    } else {
      childFds[index] = writeEnd;
      childEnds.push(writeEnd);
      copies.push(() => copyOut(readEnd, fd, stops));
    }
  });
  let copying: Promise<void>[] = [];
  return {
    childFds,
    started() {
      for (const fd of childEnds.splice(0)) closeSync(fd);
      copying = copies.map((copy) => copy());
    },
    async drained() {
      await Promise.all(copying);
    },
    close() {
      for (const fd of childEnds.splice(0)) closeSync(fd);
      for (const stop of stops.splice(0)) stop();
    },
  };
}

// Only an anonymous pipe or a socket: a named FIFO is a file of the host
// that /proc/self/fd would let the container chmod.
function passesThrough(fd: number): boolean {
  try {
    return /^(pipe|socket):\[/.test(readlinkSync(`/proc/self/fd/${fd}`));
  } catch {
    return false;
  }
}

/** isDevNull is true for the host's /dev/null (char 1:3): the container gets its own instead. */
export function isDevNull(fd: number): boolean {
  const st = fstatSync(fd);
  return st.isCharacterDevice() && st.rdev === 0x103;
}

// copyOut moves what the container writes into the caller's fd. The writes
// are synchronous, as Node's own to a file or terminal: output stays in order.
function copyOut(readEnd: number, target: number, stops: Array<() => void>): Promise<void> {
  const source = socketOn(readEnd);
  stops.push(() => source.destroy());
  return new Promise((resolve) => {
    source.on('data', (chunk: Buffer) => writeAll(target, chunk));
    source.on('close', () => resolve());
    source.on('error', () => {});
  });
}

// copyIn feeds the caller's input (a terminal or a file) to the container
// until it ends or the container is gone. A terminal is read as a socket, so
// a pending read never holds nbox open once the container has exited.
function copyIn(source: number, writeEnd: number, stops: Array<() => void>): Promise<void> {
  const sink = socketOn(writeEnd, true);
  sink.on('error', () => {});
  // Loaded on use: only `-i` from a terminal needs it.
  const { isatty, ReadStream } = require('node:tty') as typeof import('node:tty');
  if (isatty(source)) {
    const input = new ReadStream(source);
    input.on('error', () => {});
    stops.push(() => (input.destroy(), sink.destroy()));
    input.pipe(sink);
    return Promise.resolve();
  }
  let stopped = false;
  stops.push(() => ((stopped = true), sink.destroy()));
  const buffer = Buffer.alloc(64 * 1024);
  const pump = (): void => {
    if (stopped) return;
    let n = 0;
    try {
      n = readSync(source, buffer);
    } catch {
      // Unreadable input (a directory, say) is no input.
    }
    if (n === 0) return void sink.end();
    if (sink.write(Buffer.from(buffer.subarray(0, n)))) setImmediate(pump);
    else sink.once('drain', pump);
  };
  setImmediate(pump);
  return Promise.resolve();
}

function socketOn(fd: number, writable = false): Readable & NodeJS.WritableStream & { destroy(): void } {
  // Loaded on use: most containers need no copying at all.
  const { Socket } = require('node:net') as typeof import('node:net');
  return new Socket({ fd, readable: !writable, writable });
}

/** writeAll writes all of chunk to the caller's fd, synchronously (output stays in order); a failed write drops the rest. */
export function writeAll(fd: number, chunk: Buffer): void {
  for (let at = 0; at < chunk.length;) {
    try {
      at += writeSync(fd, chunk, at);
    } catch (err) {
      // A caller's fd left non-blocking (a shared terminal) may push back: wait it out.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    }
  }
}
