// A shell command on a fresh pty made by util-linux `script`, as if typed in a
// user's terminal: what the terminal and attach tests drive nbox through.
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';

import { CLI } from './env';

/** NBOX is the CLI as a shell inside `script` starts it. */
export const NBOX = `${process.execPath} -- ${CLI}`;

/** Session is a shell command running on a fresh pty made by `script`, as if typed in a terminal. */
export interface Session {
  /** Resolves once the output so far matches pattern. */
  waitFor(pattern: RegExp): Promise<string>;
  /** Types text into the terminal. */
  type(text: string): void;
  /** Resolves with script's exit code (its command's) and all the output. */
  ended: Promise<{ code: number | null; output: string }>;
}

/** inTerminal runs command in a terminal against the store at root; the test's teardown kills it. */
export function inTerminal(t: ExecutionContext, root: string, command: string): Session {
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, NBOX_ROOT: root }, stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let output = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('latin1');
    for (const waiter of waiters.splice(0)) waiter();
  });
  const ended = new Promise<{ code: number | null; output: string }>((resolve) => child.on('close', (code) => resolve({ code, output })));
  const waitFor = (pattern: RegExp): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (pattern.test(output)) resolve(output);
        else if (child.exitCode !== null) reject(new Error(`script ended before ${pattern}: ${JSON.stringify(output)}`));
        else waiters.push(check);
      };
      child.once('close', check);
      check();
    });
  return { waitFor, type: (text) => void child.stdin.write(text), ended };
}
