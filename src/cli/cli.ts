// The nbox CLI: runs the program (program.ts) and turns errors into one
// line and Docker's exit codes. main.ts loads it, bundled or not.
import { CommanderError } from 'commander';

import { EXIT_FAILED, EXIT_USAGE, exitCodeFor, globalOptions } from './context';
import { refuseNodeEnvFiles } from './node-argv';
import { buildProgram, loadedApi } from './program';
import { EXIT_SIGPIPE, whenStdoutMade } from './stdout';

// The docker CLI's exit codes for what its command line lacks: a flag it cannot parse is 125 (cobra's flag
// errors), but a missing or extra argument and an unknown command are 1 (the command's own errors).
const ARGUMENT_ERRORS = new Set(['commander.missingArgument', 'commander.excessArguments', 'commander.unknownCommand']);

function report(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (help and version exit 0).
    if (err.exitCode === 0) return 0;
    return ARGUMENT_ERRORS.has(err.code) ? EXIT_FAILED : EXIT_USAGE;
  }
  if (debug) {
    console.error(err);
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`nbox: ${message.split('\n')[0]}\n`);
  }
  return exitCodeFor(err);
}

// endWhenIdle ends nbox as soon as its loop is empty. Node's own end first frees the
// whole heap and its platform (FreeEnvironment), 10 to 15 ms of every command for
// memory the kernel takes back anyway. process.exit skips that and still runs
// the 'exit' listeners; the last of them, added here, ends with _exit when the
// addon is loaded (run, exec…: the store was opened), skipping the C library's
// atexit work as well.
function endWhenIdle(): void {
  process.once('beforeExit', () => {
    process.once('exit', (code) => loadedApi()?.endProcessNow(code));
    process.exit();
  });
}

async function main(): Promise<void> {
  endWhenIdle();
  const refusal = refuseNodeEnvFiles(process.argv);
  if (refusal) {
    process.stderr.write(`nbox: ${refusal}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  // A reader that goes away (`nbox images | head -1`) ends nbox as SIGPIPE ends
  // Docker's CLI: quietly, with the shell's code for it, instead of a stack trace.
  whenStdoutMade((stdout) =>
    stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(EXIT_SIGPIPE);
    }),
  );
  const program = buildProgram(undefined, process.argv);
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    process.exitCode = report(err, globalOptions(program).debug || process.argv.includes('--debug'));
  }
}

void main();
