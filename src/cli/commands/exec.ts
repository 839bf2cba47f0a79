// `nbox exec`: run a command in a running container; its exit code is ours.
import type { Command } from 'commander';
import { openSync } from 'node:fs';

import { collect, withExitCode, type CliContext } from '../context';
import { NboxError } from '../../errors';

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  user?: string;
  workdir?: string;
  env: string[];
  envFile: string[];
}

/** registerExec adds `exec`. */
export function registerExec(program: Command, ctx: CliContext): void {
  program
    .command('exec')
    .description('Execute a command in a running container')
    .argument('<container>', 'container name or ID')
    .argument('<command...>', 'command and arguments')
    .option('-i, --interactive', 'keep STDIN open: without it the command reads /dev/null, as in Docker')
    .option('-t, --tty', 'allocate a pseudo-TTY (not supported yet)')
    .option('-d, --detach', 'detached mode: run the command in the background')
    .option('-u, --user <user>', 'username or UID (format: <name|uid>[:<group|gid>])')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-e, --env <KEY=value>', 'set an environment variable (repeatable)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file (repeatable)', collect, [])
    .passThroughOptions()
    .action(async (container: string, command: string[], flags: ExecFlags) => {
      if (flags.tty) throw new NboxError('ERR_NBOX_USAGE', '--tty is not supported yet');
      // exec only resolves its container: the sweep of other orphans is left to the next verb.
      const nbox = await ctx.open({ deferSweep: true });
      try {
        const result = await nbox.exec(container, command, {
          user: flags.user,
          workdir: flags.workdir,
          env: flags.env,
          envFiles: flags.envFile,
          detach: flags.detach ?? false,
          stdio: [flags.interactive ? 0 : openSync('/dev/null', 'r'), 1, 2],
        });
        process.exitCode = result.exitCode ?? 0;
      } catch (err) {
        // A command that cannot start is 126 or 127, as `docker exec` (a ContainerStartError carries which).
        const startCode = (err as { exitCode?: unknown }).exitCode;
        throw typeof startCode === 'number' ? withExitCode(err, startCode) : err;
      }
    });
}
