// Host programs nbox runs and waits for (nft): started by the addon's
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
  const sys = addon();
  const [inRead, inWrite] = sys.pipe();
  const [errRead, errWrite] = sys.pipe();
  let pidfd: number;
  try {
    pidfd = sys.spawnProgram(path, [path.slice(path.lastIndexOf('/') + 1), ...args], [inRead, -1, errWrite]).pidfd;
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
  try {
    const status = await sys.wait(pidfd);
    return { ...status, stderr: readAll(errRead) };
  } finally {
    closeSync(pidfd);
    closeSync(errRead);
  }
}

/** startProgram runs path (absolute) with args and no stdio, and does not wait for it: its end is reaped in
 * the background. For a shell that puts its work in the background and exits at once. */
export function startProgram(path: string, args: string[]): void {
  const sys = addon();
  const { pidfd } = sys.spawnProgram(path, [path.slice(path.lastIndexOf('/') + 1), ...args], [-1, -1, -1]);
  sys.wait(pidfd).catch(() => undefined).finally(() => closeSync(pidfd));
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
