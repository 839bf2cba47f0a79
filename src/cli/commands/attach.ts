// `nbox attach CONTAINER`: the caller's terminal joined to a running -d
// container through its monitor, as `docker attach`: its output here, typed
// input there (the caller's terminal raw while attached, restored on every
// exit), resizes followed, the detach keys leave it running, and its exit
// code is ours when it ends while attached.
import type { Command } from 'commander';
import { writeSync } from 'node:fs';

import { EXIT_FAILED, withExitCode, type CliContext } from '../context';
import { detachFilter, type AttachSession } from '../../api';
import { checkDetachKeys, followResizes } from '../tty';

interface AttachFlags {
  stdin: boolean;
  detachKeys?: string;
  sigProxy: boolean;
}

/** Signals the user sends to nbox that a container without a terminal gets instead (--sig-proxy). */
const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** registerAttach adds `attach`. */
export function registerAttach(program: Command, ctx: CliContext): void {
  program
    .command('attach')
    .description("Attach local standard input, output, and error streams to a running container")
    .argument('<container>', 'container name or ID')
    .option('--no-stdin', 'do not attach STDIN')
    .option('--detach-keys <keys>', 'override the key sequence for detaching a container (default ctrl-p,ctrl-q)')
    .option('--sig-proxy [bool]', 'proxy all received signals to the process (non-TTY mode only)', (value: string) => value !== 'false', true)
    .action(async (ref: string, flags: AttachFlags) => {
      checkDetachKeys(flags.detachKeys);
      const nbox = await ctx.open();
      const record = await nbox.containerRecord(ref);
      const tty = record.config.tty ?? false;
      const stdin = flags.stdin && (record.config.openStdin ?? false);
      let session: AttachSession;
      try {
        session = await nbox.attachContainer(ref, {
          stdin,
          stdout: (chunk) => writeAll(1, chunk),
          stderr: (chunk) => writeAll(2, chunk),
        });
      } catch (err) {
        throw withExitCode(err, EXIT_FAILED);
      }
      const stopResizing = tty ? followResizes(session) : () => {};
      const proxy = (signal: NodeJS.Signals) => void nbox.killContainer(ref, signal).catch(() => {});
      const proxied = !tty && flags.sigProxy ? PROXIED : [];
      for (const signal of proxied) process.on(signal, proxy);
      const detached = stdin ? forwardInput(session, tty, flags.detachKeys ?? '') : { promise: new Promise<void>(() => {}), stop: () => {} };
      try {
        const how = await Promise.race([session.ended.then(() => 'ended' as const), detached.promise.then(() => 'detached' as const)]);
        if (how === 'detached') {
          session.close();
          detached.stop();
          process.stderr.write('read escape sequence\n');
          return;
        }
        detached.stop();
        // The monitor closes the connection once the end is on record: its code is ours.
        const after = await nbox.containerRecord(ref).catch(() => null);
        process.exitCode = after && after.state.status !== 'running' ? after.state.exitCode : 0;
      } finally {
        detached.stop();
        stopResizing();
        for (const signal of proxied) process.off(signal, proxy);
      }
    });
}

// forwardInput copies this process's stdin (raw when it is a terminal and the container has one) into the
// session until the detach keys; stop() restores the terminal.
function forwardInput(session: AttachSession, tty: boolean, keys: string): { promise: Promise<void>; stop: () => void } {
  const { isatty, ReadStream } = require('node:tty') as typeof import('node:tty');
  const input = isatty(0) ? new ReadStream(0) : process.stdin;
  const raw = tty && input instanceof ReadStream;
  if (raw) input.setRawMode(true);
  const restore = () => {
    if (raw && input.isRaw) input.setRawMode(false);
  };
  process.once('exit', restore);
  const filter = detachFilter(keys);
  let onDetach = () => {};
  const promise = new Promise<void>((resolve) => (onDetach = resolve));
  input.on('data', (chunk: Buffer) => {
    const data = filter.push(chunk);
    if (data.length > 0) session.write(data);
    if (filter.detached) onDetach();
  });
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

// writeAll writes a chunk to fd synchronously, so output stays in order; a failed write drops the rest.
function writeAll(fd: number, chunk: Buffer): void {
  try {
    for (let at = 0; at < chunk.length;) at += writeSync(fd, chunk, at);
  } catch {
    // The caller's output is gone: nothing to show it on.
  }
}
