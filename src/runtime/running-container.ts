// A container `run` started in the foreground: its init, its streams, and
// how a caller signals, resizes, detaches from and disposes of it.
import { constants as osConstants } from 'node:os';
import type { Readable } from 'node:stream';

import { NboxError } from '../errors';
import type { ExitStatus } from '../sys/addon';
import type { ContainerRecord } from './container-record';
import type { Launched } from './launch';
import type { TerminalSize } from './terminal';

/** Exit is how a container ended. */
export interface Exit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/** RunningContainer is a started container and its init process. */
export class RunningContainer implements AsyncDisposable {
  /** exited resolves when the init exits and its piped output that is being read has all been read (and,
   * with autoRemove, after removal). */
  readonly exited: Promise<Exit>;

  constructor(
    readonly record: ContainerRecord,
    private readonly launched: Launched,
    readonly stdout: Readable | null,
    readonly stderr: Readable | null,
    finish: (status: ExitStatus & { oomKilled: boolean }) => Promise<Exit>,
    private readonly removeRecord: () => Promise<void>,
  ) {
    this.exited = launched.exited.then(async (status) => {
      // A turn of the loop first: a fast command may end before run() has even returned, and its
      // caller's listeners, attached as run() returns, decide whether its output is being read.
      await new Promise((resolve) => setImmediate(resolve));
      await outputRead([stdout, stderr]);
      return finish(status);
    });
  }

  get pid(): number {
    return this.launched.pid;
  }

  get id(): string {
    return this.record.config.id;
  }

  get name(): string {
    return this.record.config.name;
  }

  /** resize sets the size of the container's terminal (tty); without one it does nothing. */
  resize(size: TerminalSize): void {
    this.launched.terminal?.resize(size);
  }

  /** detached resolves when the terminal's input held the detach keys; it never does otherwise. The
   * container stays attached to this process until then and dies with it (`run -d` has no such tie). */
  get detached(): Promise<void> {
    return this.launched.terminal?.detached ?? new Promise(() => {});
  }

  /** kill sends a signal to the container's init; false once it has exited. */
  kill(signal: NodeJS.Signals | number = 'SIGKILL'): boolean {
    const number = typeof signal === 'number' ? signal : osConstants.signals[signal];
    if (number === undefined) throw new NboxError('ERR_NBOX_USAGE', `invalid signal: ${signal}`);
    return this.launched.kill(number);
  }

  /** Disposal kills the container, waits for it (its PID namespace and mounts go with it) and removes it,
   * so a harness's disposed containers are not left listed as exited. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
    if (!this.record.config.autoRemove) await this.removeRecord();
  }
}

// outputRead resolves once each stream that is being read (flowing: a 'data' listener or a pipe) has ended:
// a caller that awaits exited and then looks at what it collected finds it all, though the end came first.
// A stream nobody reads is not waited for; the container's end closed its writers, so the others end soon.
function outputRead(streams: Array<Readable | null>): Promise<unknown> {
  return Promise.all(streams.map((stream) => stream && stream.readableFlowing && !stream.readableEnded && !stream.destroyed
    ? new Promise<void>((resolve) => {
      stream.once('end', resolve).once('close', resolve).once('error', () => resolve());
    })
    : undefined));
}
