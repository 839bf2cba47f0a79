// `nbox exec`: run a command in a running container; its exit code is ours.
import type { Command } from 'commander';

import type { ExecOptions, Nbox } from '../../api';
import { openSync } from 'node:fs';

import { constants as osConstants } from 'node:os';

import { EXIT_FAILED, collect, withExitCode, type CliContext } from '../context';
import { NboxError } from '../../errors';
import { checkDetachKeys, checkStdinTerminal, followResizes, terminalSize } from '../tty';

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  detachKeys?: string;
  detach?: boolean;
  user?: string;
  workdir?: string;
  env: string[];
  envFile: string[];
  privileged?: boolean;
}

/** registerExec adds `exec`. */
export function registerExec(program: Command, ctx: CliContext): void {
  program
    .command('exec')
    .description('Execute a command in a running container')
    .argument('<container>', 'container name or ID')
    .argument('<command...>', 'command and arguments')
    .option('-i, --interactive', 'keep STDIN open: without it the command reads /dev/null, as in Docker')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('--detach-keys <keys>', 'override the key sequence for detaching a container (default ctrl-p,ctrl-q)')
    .option('-d, --detach', 'detached mode: run the command in the background')
    .option('-u, --user <user>', 'username or UID (format: <name|uid>[:<group|gid>])')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-e, --env <KEY=value>', 'set an environment variable (repeatable)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file (repeatable)', collect, [])
    .option('--privileged', 'give extended privileges to the command')
    .passThroughOptions()
    .action(async (container: string, command: string[], flags: ExecFlags) => {
      // Docker's order: the keys, the container (so "No such container" comes first), then the terminal.
      checkDetachKeys(flags.detachKeys);
      // exec only resolves its container: the sweep of other orphans is left to the next verb.
      const nbox = await ctx.open({ deferSweep: true });
      if (flags.tty && !flags.detach) {
        await nbox.container(container);
        checkStdinTerminal(flags);
      }
      const options = {
        user: flags.user,
        workdir: flags.workdir,
        env: flags.env,
        envFiles: flags.envFile,
        detach: flags.detach ?? false,
        privileged: flags.privileged ?? false,
        stdio: [flags.interactive ? 0 : openSync('/dev/null', 'r'), 1, 2] as [number, number, number],
      };
      try {
        if (flags.tty && !flags.detach) {
          process.exitCode = await execInTerminal(nbox, container, command, { ...options, detachKeys: flags.detachKeys });
          return;
        }
        const result = await nbox.exec(container, command, options);
        process.exitCode = result.exitCode ?? 0;
      } catch (err) {
        // A command that cannot start is 126 or 127, as `docker exec` (a ContainerStartError carries which).
        const startCode = (err as { exitCode?: unknown }).exitCode;
        throw typeof startCode === 'number' ? withExitCode(err, startCode) : err;
      }
    });
}

// execInTerminal runs `exec -t`: the command's terminal follows this one's size, and
// the detach keys end the session as Docker's CLI ends it ("read escape sequence", 1).
async function execInTerminal(nbox: Nbox, container: string, command: string[], options: ExecOptions): Promise<number> {
  const proc = await nbox.execStream(container, command, { ...options, tty: true, ttySize: terminalSize() });
  const stopResizing = followResizes(proc);
  try {
    const exit = await Promise.race([proc.exited, proc.detached.then(() => null)]);
    if (exit === null) {
      // The command cannot outlive this process without a monitor: it ends with the session.
      proc.kill('SIGKILL');
      await proc.exited;
      throw withExitCode(new NboxError('ERR_NBOX_USAGE', 'read escape sequence'), EXIT_FAILED);
    }
    return exit.exitCode ?? 128 + (exit.signal ? osConstants.signals[exit.signal] : 0);
  } finally {
    stopResizing();
  }
}
