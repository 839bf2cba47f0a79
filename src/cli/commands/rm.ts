// `nbox rm CONTAINER...`.
import type { Command } from 'commander';

import { forEachRef, type CliContext } from '../context';
import { writeOut } from '../stdout';

/** registerRm adds `rm`. */
export function registerRm(program: Command, ctx: CliContext): void {
  program
    .command('rm')
    .description('Remove one or more containers')
    .argument('<containers...>', 'container names or IDs')
    .option('-f, --force', 'force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'remove anonymous volumes associated with the container')
    .action(async (refs: string[], flags: { force?: boolean; volumes?: boolean }) => {
      const nbox = await ctx.open();
      await forEachRef(refs, async (ref) => {
        await nbox.removeContainer(ref, { force: flags.force, volumes: flags.volumes });
        writeOut(`${ref}\n`);
      });
    });
}
