// `attach`: a client of a detached container's monitor, on its control socket
// containers/<id>/monitor.sock (native/monitor-proto.h): the container's output
// comes back as STDOUT/STDERR frames (a terminal's all STDOUT), input and
// resizes go in. Once the container's end is on record the monitor sends its
// exit code and closes the connection. `start -a` gets such a connection from
// the start itself (attachStarted).
import { closeSync, constants, openSync } from 'node:fs';
import type { Socket } from 'node:net';

import { NboxError } from '../errors';
import type { ContainerRecord } from './container-record';
import type { TerminalSize } from './terminal';

const HEADER = 8;
const MAX_INPUT = 4096;
const enum Frame { Attach = 16, Stdin = 17, Resize = 18, Stdout = 19, Stderr = 20, Exit = 21 }

/** OutputSink takes a chunk of the container's output; a promise it returns holds the next chunks back
 * until it settles (the caller's output is full): the monitor then waits, as the container does. */
export type OutputSink = (chunk: Buffer) => void | Promise<void>;

/** AttachStreams says which of the container's streams the client takes, and where its output goes. */
export interface AttachStreams {
  stdin: boolean;
  stdout: OutputSink | null;
  stderr: OutputSink | null;
  /** The caller's terminal size: a container with a terminal that starts attached (`start -a`) starts at it. */
  size?: TerminalSize;
}

/** AttachSession is a connection to a container's monitor. */
export interface AttachSession {
  /** Sends input to the container (its terminal, or with -i its stdin pipe). */
  write(data: Buffer): void;
  /** Closes the container's -i stdin pipe (the caller's input ended); a terminal has no such end. */
  endInput(): void;
  /** Sets the size of the container's terminal. */
  resize(size: TerminalSize): void;
  /** Leaves the container running. */
  close(): void;
  /** Resolves when the connection ends: the container ended (its end is on record), or close() was called. */
  readonly ended: Promise<void>;
  /** Resolves with the container's exit code when the monitor told it before the connection ended, else null
   * (close() was called, or the monitor died). */
  readonly exitCode: Promise<number | null>;
}

function frame(type: Frame, payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(type, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** attachFlags are monitor-proto.h's attach flags of a set of streams. */
export function attachFlags(streams: AttachStreams): number {
  return (streams.stdin ? 1 : 0) | (streams.stdout ? 2 : 0) | (streams.stderr ? 4 : 0);
}

/** attachMonitor connects to the monitor of a running -d container. */
export async function attachMonitor(record: ContainerRecord, streams: AttachStreams): Promise<AttachSession> {
  if (record.state.status !== 'running') {
    throw new NboxError('ERR_NBOX_USAGE', 'You cannot attach to a stopped container, start it first');
  }
  // sun_path holds 108 bytes and the store's path may be longer: the socket is named through a directory fd.
  const dir = openSync(record.dir, constants.O_RDONLY | constants.O_DIRECTORY);
  let socket: Socket;
  try {
    const { connect } = require('node:net') as typeof import('node:net');
    socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(`/proc/self/fd/${dir}/monitor.sock`);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
  } catch {
    throw new NboxError('ERR_NBOX_USAGE', `cannot attach to container ${record.config.name}: it has no monitor (it runs in the foreground of another nbox)`);
  } finally {
    closeSync(dir);
  }
  const flags = Buffer.alloc(4);
  flags.writeUInt32LE(attachFlags(streams));
  socket.write(frame(Frame.Attach, flags));
  return session(socket, streams);
}

/** attachStarted is the session on a start socket the monitor kept as an attached client (its SPEC had
 * attachFlags(streams)): it was attached before the init ran, so no output is missed. */
export function attachStarted(fd: number, streams: AttachStreams): AttachSession {
  const { Socket } = require('node:net') as typeof import('node:net');
  return session(new Socket({ fd, readable: true, writable: true }), streams);
}

function session(socket: Socket, streams: AttachStreams): AttachSession {
  let pending: Buffer = Buffer.alloc(0);
  let exitCode: number | null = null;
  let held = false;
  const deliver = (): void => {
    while (!held && pending.length >= HEADER) {
      const type = pending.readUInt32LE(0);
      const length = pending.readUInt32LE(4);
      if (pending.length < HEADER + length) break;
      const payload = pending.subarray(HEADER, HEADER + length);
      pending = pending.subarray(HEADER + length);
      const sink = type === Frame.Stdout ? streams.stdout : type === Frame.Stderr ? streams.stderr : null;
      if (type === Frame.Exit && length === 4) exitCode = payload.readInt32LE(0);
      const wait = sink?.(payload);
      if (wait) {
        held = true;
        socket.pause();
        void wait.catch(() => {}).then(() => {
          held = false;
          deliver();
          if (!held) socket.resume();
        });
      }
    }
  };
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    deliver();
  });
  const ended = new Promise<void>((resolve) => {
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
  return {
    write(data) {
      for (let at = 0; at < data.length && !socket.destroyed; at += MAX_INPUT) socket.write(frame(Frame.Stdin, data.subarray(at, at + MAX_INPUT)));
    },
    endInput() {
      if (!socket.destroyed) socket.write(frame(Frame.Stdin, Buffer.alloc(0)));
    },
    resize(size) {
      if (socket.destroyed) return;
      const payload = Buffer.alloc(4);
      payload.writeUInt16LE(size.rows, 0);
      payload.writeUInt16LE(size.cols, 2);
      socket.write(frame(Frame.Resize, payload));
    },
    close() {
      socket.destroy();
    },
    ended,
    exitCode: ended.then(() => exitCode),
  };
}
