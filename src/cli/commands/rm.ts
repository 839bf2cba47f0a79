// `nbox rm CONTAINER...`.
import type { Command } from 'commander';

import { forEachRef, type CliContext } from '../context';

/** registerRm adds `rm`. */
export function registerRm(program: Command, ctx: CliContext): void {
  program
    .command('rm')
    .description('Remove one or more containers')
    .argument('<containers...>', 'container names or IDs')
    .option('-f, --force', 'force the removal of a running container (uses SIGKILL)')
    // Accepted for Docker's command lines: nbox makes no anonymous volumes yet, so there are none to remove.
    .option('-v, --volumes', "remove anonymous volumes associated with the container (there are none yet)")
    .action(async (refs: string[], flags: { force?: boolean }) => {
      const nbox = await ctx.open();
      await forEachRef(refs, async (ref) => {
        await nbox.removeContainer(ref, { force: flags.force });
        process.stdout.write(`${ref}\n`);
      });
    });
}
