// `nbox rm CONTAINER...`.
import type { Command } from 'commander';

import type { CliContext } from '../context';

/** registerRm adds `rm`. */
export function registerRm(program: Command, ctx: CliContext): void {
  program
    .command('rm')
    .description('Remove one or more containers')
    .argument('<containers...>', 'container names or IDs')
    .option('-f, --force', 'force the removal of a running container (uses SIGKILL)')
    .action(async (refs: string[], flags: { force?: boolean }) => {
      const nbox = await ctx.open();
      let failure: unknown;
      for (const ref of refs) {
        try {
          await nbox.removeContainer(ref, { force: flags.force });
          process.stdout.write(`${ref}\n`);
        } catch (err) {
          process.stderr.write(`nbox: ${(err as Error).message}\n`);
          failure = err;
        }
      }
      if (failure) process.exitCode = 1;
    });
}
