// `attach`: a client of a detached container's monitor, on its control socket
// containers/<id>/monitor.sock (native/monitor-proto.h): the container's output
// comes back as STDOUT/STDERR frames (a terminal's all STDOUT), input and
// resizes go in. The monitor closes the connection once the container's end
// is on record.
import { closeSync, constants, openSync } from 'node:fs';
import type { Socket } from 'node:net';

import { NboxError } from '../errors';
import type { ContainerRecord } from './containers';
import type { TerminalSize } from './terminal';

const HEADER = 8;
const MAX_INPUT = 4096;
const enum Frame { Attach = 16, Stdin = 17, Resize = 18, Stdout = 19, Stderr = 20 }

/** AttachStreams says which of the container's streams the client takes, and where its output goes. */
export interface AttachStreams {
  stdin: boolean;
  stdout: ((chunk: Buffer) => void) | null;
  stderr: ((chunk: Buffer) => void) | null;
}

/** AttachSession is a connection to a container's monitor. */
export interface AttachSession {
  /** Sends input to the container (its terminal, or with -i its stdin pipe). */
  write(data: Buffer): void;
  /** Ends the container's input: a stdin pipe reads EOF (a terminal has no end of input). */
  endInput(): void;
  /** Sets the size of the container's terminal. */
  resize(size: TerminalSize): void;
  /** Leaves the container running. */
  close(): void;
  /** Resolves when the connection ends: the container ended (its end is on record), or close() was called. */
  readonly ended: Promise<void>;
}

function frame(type: Frame, payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(type, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
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
  flags.writeUInt32LE((streams.stdin ? 1 : 0) | (streams.stdout ? 2 : 0) | (streams.stderr ? 4 : 0));
  socket.write(frame(Frame.Attach, flags));
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= HEADER) {
      const type = pending.readUInt32LE(0);
      const length = pending.readUInt32LE(4);
      if (pending.length < HEADER + length) break;
      const payload = pending.subarray(HEADER, HEADER + length);
      if (type === Frame.Stdout) streams.stdout?.(payload);
      else if (type === Frame.Stderr) streams.stderr?.(payload);
      pending = pending.subarray(HEADER + length);
    }
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
  };
}
