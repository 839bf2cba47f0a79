// What `attach` and `start -a` share once a session with a container's monitor
// is open: its output here, this process's input there (the terminal raw while
// attached, restored on every exit path), resizes followed, signals proxied to a
// container without a terminal, the detach keys; the container's exit code is
// ours when it ends while attached.
import type { AttachSession, Nbox } from '../api';
import { detachFilter } from '../api';
import { followResizes } from './tty';

/** Signals the user sends to nbox that a container without a terminal gets instead (--sig-proxy). */
export const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** FollowOptions say how the caller is joined to the container. */
export interface FollowOptions {
  tty: boolean;
  /** This process's stdin goes to the container. */
  stdin: boolean;
  detachKeys: string;
  /** Signals nbox gets go to the container instead (each verb says when, as Docker's CLI does). */
  sigProxy: boolean;
  /** The end of this process's input closes the container's stdin (`run -i`, Docker's StdinOnce). */
  closeStdin?: boolean;
}

/** followSession runs until the container ends (its exit code becomes ours) or the detach keys leave it running. */
export async function followSession(nbox: Nbox, ref: string, session: AttachSession, options: FollowOptions): Promise<void> {
  const stopResizing = options.tty ? followResizes(session) : () => {};
  const proxy = (signal: NodeJS.Signals) => void nbox.killContainer(ref, signal).catch(() => {});
  const proxied = options.sigProxy ? PROXIED : [];
  for (const signal of proxied) process.on(signal, proxy);
  const detached = options.stdin ? forwardInput(session, options.tty, options.detachKeys, options.closeStdin ?? false) : { promise: new Promise<void>(() => {}), stop: () => {} };
  try {
    const how = await Promise.race([session.ended.then(() => 'ended' as const), detached.promise.then(() => 'detached' as const)]);
    if (how === 'detached') {
      session.close();
      detached.stop();
      process.stderr.write('read escape sequence\n');
      return;
    }
    detached.stop();
    // The monitor sends the code once the end is on record; a monitor that died left it in the record.
    const code = await session.exitCode;
    if (code !== null) {
      process.exitCode = code;
      return;
    }
    const after = await nbox.containerRecord(ref).catch(() => null);
    process.exitCode = after && after.state.status !== 'running' ? after.state.exitCode : 0;
  } finally {
    detached.stop();
    stopResizing();
    for (const signal of proxied) process.off(signal, proxy);
  }
}

/** outputTo is an attach sink writing to one of this process's output streams, in order; while the stream
 * is full it holds the container's output back rather than buffer it without bound. A stream that failed
 * (the reader went away) takes nothing more. */
export function outputTo(stream: NodeJS.WriteStream): (chunk: Buffer) => Promise<void> | undefined {
  let failed = false;
  stream.on('error', () => (failed = true));
  return (chunk) => {
    if (failed || stream.write(chunk)) return undefined;
    return new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('error', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('error', done);
    });
  };
}

// forwardInput copies this process's stdin (raw when it is a terminal and the container has one) into the
// session until the detach keys; stop() restores the terminal.
function forwardInput(session: AttachSession, tty: boolean, keys: string, closeStdin: boolean): { promise: Promise<void>; stop: () => void } {
  const { isatty, ReadStream } = require('node:tty') as typeof import('node:tty');
  const input = isatty(0) ? new ReadStream(0) : process.stdin;
  const raw = tty && input instanceof ReadStream;
  if (raw) input.setRawMode(true);
  const restore = () => {
    if (raw && input.isRaw) input.setRawMode(false);
  };
  process.once('exit', restore);
  // As Docker's: the detach keys are read on a terminal's input only; piped input is data, all of it.
  const filter = tty ? detachFilter(keys) : { push: (chunk: Buffer) => chunk, detached: false };
  let onDetach = () => {};
  const promise = new Promise<void>((resolve) => (onDetach = resolve));
  input.on('data', (chunk: Buffer) => {
    const data = filter.push(chunk);
    if (data.length > 0) session.write(data);
    if (filter.detached) onDetach();
  });
  if (closeStdin) input.on('end', () => session.endInput());
  input.on('error', () => {});
  return {
    promise,
    stop: () => {
      restore();
      process.off('exit', restore);
      input.pause();
      input.destroy();
    },
  };
}
