// Where a container's 0, 1 and 2 go, as `run` and `exec` are told it, and
// those fds opened: pipes the caller reads and writes, /dev/null, or the
// caller's own fds.
import { closeSync, openSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

import { addon } from '../sys/addon';
import type { TerminalIo } from './terminal';

/** StdioOption says where the container's 0, 1 and 2 go: this process's own
 * fds, pipes the caller reads, /dev/null, or explicit host fds. */
export type StdioOption = 'inherit' | 'pipe' | 'ignore' | [number, number, number];

/** OpenedStdio is a StdioOption opened: the child's fds and the caller's streams. */
export interface OpenedStdio {
  childFds: [number, number, number];
  /** Closes the fds only the child needed, and wraps the caller's ends in streams. */
  started(): { stdout: Readable | null; stderr: Readable | null; stdin: Writable | null };
  closeAll(): void;
}

/** openStdio opens what a StdioOption names; with `stdin`, 'pipe' also gives the child's input as a stream to write. */
export function openStdio(option: StdioOption, options: { stdin?: boolean } = {}): OpenedStdio {
  if (Array.isArray(option)) return fixedStdio(option);
  if (option === 'inherit') return fixedStdio([0, 1, 2]);
  const devNull = openSync('/dev/null', 'r+');
  if (option === 'ignore') {
    const close = () => closeSync(devNull);
    return {
      childFds: [devNull, devNull, devNull],
      started: () => (close(), { stdout: null, stderr: null, stdin: null }),
      closeAll: close,
    };
  }
  const [outRead, outWrite] = addon().pipe();
  const [errRead, errWrite] = addon().pipe();
  const [inRead, inWrite] = options.stdin ? addon().pipe() : [devNull, -1];
  const childEnds = [...new Set([devNull, inRead, outWrite, errWrite])];
  return {
    childFds: [inRead, outWrite, errWrite],
    started: () => {
      childEnds.forEach((fd) => closeSync(fd));
      // Loaded on use: the CLI passes its own fds and never needs sockets.
      const { Socket } = require('node:net') as typeof import('node:net');
      return {
        stdout: new Socket({ fd: outRead, readable: true, writable: false }),
        stderr: new Socket({ fd: errRead, readable: true, writable: false }),
        stdin: inWrite < 0 ? null : new Socket({ fd: inWrite, readable: false, writable: true }),
      };
    },
    closeAll: () => [...childEnds, outRead, errRead, inWrite].filter((fd) => fd >= 0).forEach((fd) => closeSync(fd)),
  };
}

/** terminalIo is what a StdioOption means for a container with a terminal: one output stream, and input
 * from the caller's stdin fd when it gives one. */
export function terminalIo(option: StdioOption, detachKeys: number[]): TerminalIo {
  if (option === 'inherit') return { input: 0, output: 1, detachKeys };
  if (option === 'pipe') return { input: null, output: 'pipe', detachKeys };
  if (option === 'ignore') return { input: null, output: null, detachKeys };
  return { input: option[0], output: option[1], detachKeys };
}

/** fixedStdio gives the child fds as they are: nothing to open or close. */
export function fixedStdio(fds: [number, number, number]): OpenedStdio {
  return { childFds: fds, started: () => ({ stdout: null, stderr: null, stdin: null }), closeAll: () => {} };
}
