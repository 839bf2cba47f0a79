// Host programs nbox runs (nft, a session's reaper): started by the addon's
// posix_spawn, which copies nothing of this process, where child_process
// forks all of Node for each and is itself milliseconds to load.
import { closeSync, readSync, writeSync } from 'node:fs';

import { addon, type ExitStatus } from './addon';

/** ProgramResult is how a program ended and what it wrote on stderr. */
export interface ProgramResult extends ExitStatus {
  stderr: string;
}

/** runProgram runs path (absolute) with args, input on its stdin and stdout discarded, and resolves once it
 * exits. Its stderr is read after that: a program that leaves a child holding it open is not one to run so. */
export async function runProgram(path: string, args: string[], input: string): Promise<ProgramResult> {
  const { pidfd, errRead } = spawnWithInput(path, args, input, -1);
  return reaped(pidfd, errRead);
}

/** runProgramToOutput runs path as runProgram does, with its stdout read: it resolves at the program's first
 * output with `output: true`, leaving the rest of its run (and its exit) to the background, or at its exit
 * when it wrote nothing. */
export async function runProgramToOutput(path: string, args: string[], input: string): Promise<ProgramResult & { output: boolean }> {
  const sys = addon();
  const [outRead, outWrite] = sys.pipe();
  let spawned: { pidfd: number; errRead: number };
  try {
    spawned = spawnWithInput(path, args, input, outWrite);
  } catch (err) {
    closeSync(outRead);
    throw err;
  } finally {
    closeSync(outWrite);
  }
  const { pidfd, errRead } = spawned;
  const { Socket } = require('node:net') as typeof import('node:net');
  const out = new Socket({ fd: outRead, readable: true, writable: false });
  // Its first output, or the end of it (it exited, or closed its stdout first: its exit follows).
  const output = await new Promise<boolean>((resolve) => {
    out.once('data', () => resolve(true)).once('end', () => resolve(false)).once('error', () => resolve(false));
  });
  // The rest is not read: closed, a program that writes more ends on EPIPE.
  out.destroy();
  if (!output) return { ...(await reaped(pidfd, errRead)), output: false };
  // Reaped when it ends, without holding this process up.
  sys.wait(pidfd, true).catch(() => undefined).finally(() => {
    closeSync(pidfd);
    closeSync(errRead);
  });
  return { exitCode: 0, signal: null, stderr: '', output: true };
}

// spawnWithInput starts path with input written whole to its stdin, stdout on stdoutFd (-1: /dev/null) and
// stderr on a pipe: its pidfd and the pipe's read end, both the caller's to close.
function spawnWithInput(path: string, args: string[], input: string, stdoutFd: number): { pidfd: number; errRead: number } {
  const sys = addon();
  const [inRead, inWrite] = sys.pipe();
  const [errRead, errWrite] = sys.pipe();
  let pidfd: number;
  try {
    pidfd = sys.spawnProgram(path, [path.slice(path.lastIndexOf('/') + 1), ...args], [inRead, stdoutFd, errWrite]).pidfd;
  } catch (err) {
    [inWrite, errRead].forEach((fd) => closeSync(fd));
    throw err;
  } finally {
    [inRead, errWrite].forEach((fd) => closeSync(fd));
  }
  try {
    writeInput(inWrite, Buffer.from(input));
  } finally {
    closeSync(inWrite);
  }
  return { pidfd, errRead };
}

// reaped waits for the program's exit, then reads its stderr: a program that leaves a child holding it open
// is not one to run so.
async function reaped(pidfd: number, errRead: number): Promise<ProgramResult> {
  try {
    return { ...(await addon().wait(pidfd)), stderr: readAll(errRead) };
  } finally {
    closeSync(pidfd);
    closeSync(errRead);
  }
}

/** startProgram runs path (absolute) with args and no stdio, in a session of its own, and does not wait for
 * it: its end is reaped in the background. For a shell that puts its work in the background and exits at
 * once; or, with `outlives`, for a program that outlives this process, whose wait then holds nothing up.
 * No environment unless `env` gives one. */
export function startProgram(path: string, args: string[], options: { outlives?: boolean; env?: NodeJS.ProcessEnv } = {}): void {
  const sys = addon();
  const env = options.env && Object.entries(options.env).flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}`]));
  const { pidfd } = sys.spawnProgram(path, [path.slice(path.lastIndexOf('/') + 1), ...args], [-1, -1, -1], env);
  sys.wait(pidfd, options.outlives).catch(() => undefined).finally(() => closeSync(pidfd));
}

// writeInput writes all of data; a program that exits without reading it all (EPIPE) says why in its status.
function writeInput(fd: number, data: Buffer): void {
  try {
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
  }
}

function readAll(fd: number): string {
  const chunks: Buffer[] = [];
  const chunk = Buffer.alloc(16 * 1024);
  for (let got; (got = readSync(fd, chunk)) > 0; ) chunks.push(Buffer.from(chunk.subarray(0, got)));
  return Buffer.concat(chunks).toString('utf8');
}
