// What every verb shares: the global options, opening the library, and how
// errors become one line and an exit code.
import type { Command } from 'commander';

import type { Readable } from 'node:stream';

import type { Nbox, OpenOptions } from '../api';
import { NboxError, isErrno } from '../errors';

/** EXIT_USAGE is Docker's code for bad usage and for `run`'s own failures (and nbox's for a store it cannot open). */
export const EXIT_USAGE = 125;
/** EXIT_FAILED is Docker's code for an operation that failed. */
export const EXIT_FAILED = 1;

const EXIT_CODE = Symbol('nbox exit code');

/** withExitCode marks err with the code nbox exits with for it, unless one is marked already; returns err. */
export function withExitCode(err: unknown, code: number): unknown {
  if (err instanceof Object && !(EXIT_CODE in err)) Object.defineProperty(err, EXIT_CODE, { value: code });
  return err;
}

/** exitingOne wraps a verb's action whose every error, bad usage included, the docker CLI reports with 1: its
 * checks (a reference's format) run in the command, not in cobra's flag parsing, which alone gives 125. */
export function exitingOne<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (err) {
      throw withExitCode(err, EXIT_FAILED);
    }
  };
}

/** exitCodeFor is the code nbox exits with for err: its mark, else 125 for
 * bad usage and 1 for a failed operation, as Docker's CLI. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof Object && EXIT_CODE in err) return (err as { [EXIT_CODE]: number })[EXIT_CODE];
  return err instanceof NboxError && err.code === 'ERR_NBOX_USAGE' ? EXIT_USAGE : EXIT_FAILED;
}

/** CliContext is handed to each verb's register function. */
export interface CliContext {
  /** open opens the store named by --root / NBOX_ROOT (deferSweep: see OpenOptions). */
  open(options?: Pick<OpenOptions, 'deferSweep' | 'spareMonitor'>): Promise<Nbox>;
}

/** globalOptions reads the options every verb inherits. */
export function globalOptions(program: Command): { root?: string; debug: boolean } {
  const opts = program.opts<{ root?: string; debug?: boolean }>();
  return { root: opts.root, debug: opts.debug ?? false };
}

/** collect accumulates a repeatable option's values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** forEachRef applies action to every reference as Docker's multi-argument
 * verbs do: a failure is reported on its line and the rest go on; exit 1 after. */
export async function forEachRef(refs: string[], action: (ref: string) => Promise<void>): Promise<void> {
  let failed = false;
  for (const ref of refs) {
    try {
      await action(ref);
    } catch (err) {
      process.stderr.write(`nbox: ${(err as Error).message}\n`);
      failed = true;
    }
  }
  if (failed) process.exitCode = 1;
}

/** openInput opens a file named on the command line for reading, or stdin for `-`;
 * a file that cannot be opened is one line, as Docker prints it, not a stream error,
 * and a failed operation (exit 1) as in Docker, not bad usage. */
export async function openInput(file: string): Promise<Readable> {
  if (file === '-') return process.stdin;
  const { open } = await import('node:fs/promises');
  try {
    return (await open(file, 'r')).createReadStream();
  } catch (err) {
    const reason = isErrno(err, 'ENOENT') ? 'no such file or directory' : (err as Error).message;
    throw new NboxError('ERR_NBOX_IMPORT', `open ${file}: ${reason}`);
  }
}

/** parseBool reads a `--flag=true|false` value. */
export function parseBool(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new NboxError('ERR_NBOX_USAGE', `invalid boolean ${JSON.stringify(value)}: use true or false`);
}

/** keyValues parses repeated KEY=value flags; a bare KEY takes the host's value when fromEnv. */
export function keyValues(values: string[], flag: string, fromEnv: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    const key = eq < 0 ? value : value.slice(0, eq);
    if (!key) throw new NboxError('ERR_NBOX_USAGE', `${flag} "${value}": a key is required`);
    if (eq >= 0) out[key] = value.slice(eq + 1);
    else if (fromEnv && process.env[key] !== undefined) out[key] = process.env[key]!;
    else if (!fromEnv) out[key] = '';
  }
  return out;
}
