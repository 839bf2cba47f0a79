// What `run -t` and `exec -t` share: Docker's check that an attached stdin
// is a terminal, the caller's terminal size, and resizes as it changes.
import { EXIT_FAILED, withExitCode } from './context';
import { NboxError, parseDetachKeys, type TerminalSize } from '../api';

/** checkStdinTerminal fails as Docker's CLI does (exit 1) when stdin is attached to a terminal but is none. */
export function checkStdinTerminal(flags: { interactive?: boolean; tty?: boolean }): void {
  // Loaded on use: only -t needs it.
  const { isatty } = require('node:tty') as typeof import('node:tty');
  if (flags.tty && flags.interactive && !isatty(0)) {
    throw withExitCode(new NboxError('ERR_NBOX_USAGE', 'cannot attach stdin to a TTY-enabled container because stdin is not a terminal'), EXIT_FAILED);
  }
}

/** checkDetachKeys fails as Docker's CLI does (exit 1) on a --detach-keys value it cannot read. */
export function checkDetachKeys(keys: string | undefined): void {
  try {
    parseDetachKeys(keys ?? '');
  } catch (err) {
    throw withExitCode(err, EXIT_FAILED);
  }
}

/** terminalSize is this process's terminal size, as Docker takes it from its stdout; 0 by 0 when that is no terminal. */
export function terminalSize(): TerminalSize {
  return process.stdout.isTTY ? { rows: process.stdout.rows, cols: process.stdout.columns } : { rows: 0, cols: 0 };
}

/** followResizes resizes target whenever this process's terminal changes size (SIGWINCH), and once at
 * once, as Docker's CLI does: a change while the container started is not lost. Returns the unsubscribe. */
export function followResizes(target: { resize(size: TerminalSize): void }): () => void {
  if (!process.stdout.isTTY) return () => {};
  const onResize = () => target.resize(terminalSize());
  process.stdout.on('resize', onResize);
  onResize();
  return () => process.stdout.off('resize', onResize);
}
