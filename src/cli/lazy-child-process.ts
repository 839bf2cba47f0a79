// The CLI bundle's node:child_process (esbuild --alias in package.json): Node's
// module loads net, stream and more, milliseconds of every start, though only a
// few verbs spawn anything (commander requires it for executable subcommands,
// which nbox has none of). This loads it on the first call instead.
import type * as ChildProcess from 'node:child_process';
import { promisify } from 'node:util';

type Name = 'spawn' | 'execFile';
type Call = (...args: unknown[]) => unknown;

// Unprefixed: the alias maps 'node:child_process' alone, so this is Node's own.
function real<K extends Name>(name: K): (typeof ChildProcess)[K] {
  return (require('child_process') as typeof ChildProcess)[name];
}

function onFirstCall<K extends Name>(name: K): (typeof ChildProcess)[K] {
  const call = (...args: unknown[]) => (real(name) as Call)(...args);
  // promisify(execFile) resolves { stdout, stderr } through this symbol: it must reach the real one's.
  Object.defineProperty(call, promisify.custom, { get: () => (real(name) as unknown as Record<symbol, unknown>)[promisify.custom] });
  return call as unknown as (typeof ChildProcess)[K];
}

export const spawn = onFirstCall('spawn');
export const execFile = onFirstCall('execFile');
