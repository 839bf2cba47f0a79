// The host end of a container's terminal (`-t`): the pty master the child
// made in the container's own devpts and sent back. Its output is one stream
// (a terminal has no separate stderr) copied to the caller; the caller's
// input goes in through the detach-key filter. While the caller's own
// terminal is that input it is in raw mode, so keys such as ctrl-c reach the
// container's line discipline rather than nbox, and it is restored however
// the session ends.
import type * as Stream from 'node:stream';
import type { PassThrough, Readable } from 'node:stream';
import type { ReadStream } from 'node:tty';

import { addon, type Addon, type TerminalSize } from '../sys/addon';
import { DetachFilter } from './detach-keys';
import { isDevNull, writeAll, type GuardedStdio } from './stdio';

export type { TerminalSize } from '../sys/addon';

// Signals whose default action ends this process while the caller's terminal is raw.
const FATAL_SIGNALS: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGQUIT'];

/** TerminalIo says where a container terminal's input comes from and its output goes. */
export interface TerminalIo {
  /** The caller's fd copied into the terminal; null (or the host's /dev/null) for none. */
  input: number | null;
  /** The caller's fd the output is written to, 'pipe' for the `stdout` stream, or null to drop it. */
  output: number | 'pipe' | null;
  /** The detach sequence (parseDetachKeys); [] for none. */
  detachKeys: number[];
}

/** TerminalStdio is the GuardedStdio of a container with a terminal: the child
 * gets no fd of the caller's (its stdio is the pty), and the copying starts
 * once attach() has the master. */
export class TerminalStdio implements GuardedStdio {
  readonly childFds: [number, number, number] = [-1, -1, -1];
  /** The output, with TerminalIo.output 'pipe'. */
  readonly stdout: Readable | null;
  /** Resolves when the input held the detach sequence; input stops there. */
  readonly detached: Promise<void>;
  private master: ReadStream | undefined;
  private masterFd = -1;
  private input: Readable | undefined;
  private outputDone: Promise<void> = Promise.resolve();
  private restoreMode: (() => void) | undefined;
  private onDetach: () => void = () => {};

  constructor(private readonly io: TerminalIo, private readonly sys: Pick<Addon, 'setWindowSize'> = addon()) {
    this.stdout = io.output === 'pipe' ? new (require('node:stream') as typeof Stream).PassThrough() : null;
    this.detached = new Promise((resolve) => (this.onDetach = resolve));
  }

  /** attach takes the master the spawn returned (this object closes it). */
  attach(master: number): void {
    // Loaded on use: only -t needs it.
    const { ReadStream } = require('node:tty') as typeof import('node:tty');
    this.masterFd = master;
    this.master = new ReadStream(master);
    this.master.on('error', () => {});
  }

  /** started starts copying: output at once, input (in raw mode when it is a terminal) too. */
  started(): void {
    const master = this.master;
    if (!master) return;
    const { output } = this.io;
    const stdout = this.stdout as PassThrough | null;
    this.outputDone = new Promise((resolve) => {
      master.on('data', (chunk: Buffer) => {
        if (typeof output === 'number') writeAll(output, chunk);
        else stdout?.write(chunk);
      });
      // EIO once every holder of the slave closed it: the container's side is gone.
      master.on('close', () => {
        stdout?.end();
        resolve();
      });
    });
    this.startInput(master);
  }

  /** drained resolves once the container's side of the terminal is closed and its output copied. */
  drained(): Promise<void> {
    return this.outputDone;
  }

  /** resize sets the terminal's size; the kernel signals its foreground processes. A closed terminal is left alone. */
  resize(size: TerminalSize): void {
    if (!this.master || this.master.destroyed) return;
    try {
      this.sys.setWindowSize(this.masterFd, size.rows, size.cols);
    } catch {
      // Gone between the check and the call: nothing to resize.
    }
  }

  /** close stops the input, restores the caller's terminal and closes the master. */
  close(): void {
    this.stopInput();
    this.master?.destroy();
    (this.stdout as PassThrough | null)?.end();
  }

  private startInput(master: ReadStream): void {
    const fd = this.io.input;
    if (fd === null || isDevNull(fd)) return;
    const { isatty, ReadStream } = require('node:tty') as typeof import('node:tty');
    let input: Readable;
    if (isatty(fd)) {
      const terminal = new ReadStream(fd);
      terminal.setRawMode(true);
      const restore = () => {
        if (terminal.isRaw) terminal.setRawMode(false);
      };
      // Also on a process.exit() from anywhere, and on a signal that would end this process
      // unhandled (nobody forwards it): the user's shell must not be left raw.
      process.once('exit', restore);
      const fatal = FATAL_SIGNALS.filter((signal) => process.listenerCount(signal) === 0);
      const onSignal = (signal: NodeJS.Signals): void => {
        this.stopInput();
        process.kill(process.pid, signal);
      };
      for (const signal of fatal) process.once(signal, onSignal);
      this.restoreMode = () => {
        process.off('exit', restore);
        for (const signal of fatal) process.off(signal, onSignal);
        restore();
      };
      input = terminal;
    } else {
      input = readableFd(fd);
    }
    this.input = input;
    input.on('error', () => {});
    const filter = new DetachFilter(this.io.detachKeys);
    input.on('data', (chunk: Buffer) => {
      const data = filter.push(chunk);
      if (data.length > 0 && !master.destroyed) master.write(data);
      if (filter.detached) {
        this.stopInput();
        this.onDetach();
      }
    });
  }

  private stopInput(): void {
    this.restoreMode?.();
    this.restoreMode = undefined;
    this.input?.destroy();
    this.input = undefined;
  }
}

// A pipe or socket is read as a socket (no thread blocks on it); a file through fs.
function readableFd(fd: number): Readable {
  const { fstatSync, createReadStream } = require('node:fs') as typeof import('node:fs');
  const st = fstatSync(fd);
  if (st.isFIFO() || st.isSocket()) {
    const { Socket } = require('node:net') as typeof import('node:net');
    return new Socket({ fd, readable: true, writable: false });
  }
  return createReadStream('', { fd, autoClose: false });
}
