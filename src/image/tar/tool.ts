// The programs tar work runs (GNU tar, xz, bzip2, zstd): started the one way,
// fed on stdin, with their stderr kept for the line that says why they failed.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/** Tool is a started program: the process, how it ended (rejected when it could not start), and its stderr so far. */
export interface Tool<Out extends Readable | null> {
  child: ChildProcessByStdio<Writable, Out, Readable>;
  exited: Promise<number | null>;
  stderr(): string;
}

/** startTool runs program with args, stdin piped and stdout piped or ignored. */
export function startTool(program: string, args: string[], stdout: 'pipe'): Tool<Readable>;
export function startTool(program: string, args: string[], stdout: 'ignore'): Tool<null>;
export function startTool(program: string, args: string[], stdout: 'pipe' | 'ignore'): Tool<Readable | null> {
  const child = spawn(program, args, { stdio: ['pipe', stdout, 'pipe'] }) as ChildProcessByStdio<Writable, Readable | null, Readable>;
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  // Awaited by the caller when it needs the status; a failure to start also shows as a closed stdin.
  exited.catch(() => undefined);
  return { child, exited, stderr: () => stderr };
}
