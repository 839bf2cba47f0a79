// The CLI bundle's node:child_process (esbuild --alias in package.json): Node's
// module loads net, stream and more, milliseconds of every start, though only a
// few verbs spawn anything (commander requires it for executable subcommands,
// which nbox has none of). This loads it on the first call instead.
import type * as ChildProcess from 'node:child_process';

type Call = (...args: unknown[]) => unknown;

// Unprefixed: the alias maps 'node:child_process' alone, so this is Node's own.
function onFirstCall<K extends 'spawn' | 'execFile'>(name: K): (typeof ChildProcess)[K] {
  return ((...args: unknown[]) => ((require('child_process') as typeof ChildProcess)[name] as Call)(...args)) as (typeof ChildProcess)[K];
}

export const spawn = onFirstCall('spawn');
export const execFile = onFirstCall('execFile');
