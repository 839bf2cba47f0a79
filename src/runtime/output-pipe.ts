// A pipe whose write end a container gets as its stdout and stderr, and whose
// read end this process reads into a callback: how a caller with no fd to give
// (the Engine API's build stream) still gets a command's output, in order.
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';

import { addon } from '../sys/addon';

/** OutputPipe is one command's output pipe. */
export interface OutputPipe {
  /** The write end, for the command's stdio. */
  fd: number;
  /** Call once the command has its copy: closes this process's write end, so the end of the command is the pipe's. */
  started(): void;
  /** Resolves once every writer is gone and all the output has been handed over. */
  drained(): Promise<void>;
  /** Closes both ends (a failed start, or after drained). */
  close(): void;
}

/** outputPipe makes a pipe whose output goes to onChunk. */
export function outputPipe(onChunk: (chunk: Buffer) => void): OutputPipe {
  const [readEnd, writeEnd] = addon().pipe();
  const reader = new Socket({ fd: readEnd, readable: true, writable: false });
  reader.on('data', onChunk);
  reader.on('error', () => {});
  const closed = new Promise<void>((resolve) => reader.once('close', () => resolve()));
  let writeOpen = true;
  const closeWrite = () => {
    if (!writeOpen) return;
    writeOpen = false;
    closeSync(writeEnd);
  };
  return {
    fd: writeEnd,
    started: closeWrite,
    drained: () => closed,
    close() {
      closeWrite();
      reader.destroy();
    },
  };
}
