// `nbox wait CONTAINER...`: each container's exit code once it has ended.
import type { Command } from 'commander';

import { forEachRef, type CliContext } from '../context';
import { writeOut } from '../stdout';

/** registerWait adds `wait`. */
export function registerWait(program: Command, ctx: CliContext): void {
  program
    .command('wait')
    .description('Block until one or more containers stop, then print their exit codes')
    .argument('<containers...>', 'container names or IDs')
    .action(async (refs: string[]) => {
      const nbox = await ctx.open();
      await forEachRef(refs, async (ref) => {
        writeOut(`${await nbox.waitContainer(ref)}\n`);
      });
    });
}
